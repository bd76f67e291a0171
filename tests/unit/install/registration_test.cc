// install/uninstall applied to a scratch HOME (every browser) and a scratch root (--system):
// files and directories, modes, idempotence, and uninstall removing exactly what install wrote.
#include "install/registration.h"

#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "install/manifest.h"
#include <sys/stat.h>

namespace omnibridge::install {
namespace {

namespace fs = std::filesystem;
using ::testing::Contains;
using ::testing::HasSubstr;

class Scratch {
 public:
  Scratch() {
    std::string templ = (fs::temp_directory_path() / "omni-install-XXXXXX").string();
    path_ = ::mkdtemp(templ.data());
  }

  ~Scratch() { fs::remove_all(path_); }

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::set<std::string> Tree(const std::string& root) {
  std::set<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(root))
    out.insert(e.path().string());
  return out;
}

int Mode(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? static_cast<int>(st.st_mode & 07777) : -1;
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

Env HomeEnv(const Scratch& s) {
  Env env;
  env.os = Os::kLinux;
  env.home = s.path() + "/home";
  env.config_home = env.home + "/.config";
  fs::create_directories(env.home);
  return env;
}

RegisterOptions Options(Scope scope) {
  RegisterOptions options;
  options.scope = scope;
  options.host_path = "/usr/bin/omnibridge-host";
  options.extension_ids = ShippedExtensionIds();
  return options;
}

TEST(Register, UserInstallForEveryBrowserThenUninstallRestoresTheTree) {
  Scratch s;
  Env env = HomeEnv(s);
  // A browser that has run already: its profile directory exists and must survive uninstall.
  fs::create_directories(env.config_home + "/chromium/Default");
  std::ofstream(env.config_home + "/chromium/Local State") << "{}";
  const std::set<std::string> before = Tree(s.path());

  auto plan = PlanInstall(Options(Scope::kUser), env);
  ASSERT_TRUE(plan.ok());
  std::vector<std::string> log;
  ASSERT_TRUE(ApplyInstall(*plan, nullptr, &log).ok());
  const std::string manifest = RenderManifest("/usr/bin/omnibridge-host", ShippedExtensionIds());
  for (const BrowserInfo& b : Browsers()) {
    for (const std::string& dir : DefaultUserDataDirs(b, env)) {
      std::string file = dir + "/NativeMessagingHosts/org.omnibridge.host.json";
      EXPECT_EQ(Slurp(file), manifest) << file;
      EXPECT_EQ(Mode(file), 0644) << file;
      EXPECT_EQ(Mode(dir + "/NativeMessagingHosts"), 0700) << "created private: " << dir;
      EXPECT_THAT(log, Contains("wrote " + file));
    }
  }
  // No temporary file left behind anywhere.
  for (const std::string& p : Tree(s.path()))
    EXPECT_THAT(p, ::testing::Not(HasSubstr(".omnibridge-tmp-")));

  // Idempotent: the same files, reported unchanged.
  const std::set<std::string> installed = Tree(s.path());
  log.clear();
  ASSERT_TRUE(ApplyInstall(*PlanInstall(Options(Scope::kUser), env), nullptr, &log).ok());
  EXPECT_EQ(Tree(s.path()), installed);
  EXPECT_THAT(log, Contains("unchanged " + env.config_home +
                            "/chromium/NativeMessagingHosts/org.omnibridge.host.json"));

  log.clear();
  auto removal = PlanUninstall(Options(Scope::kUser), env);
  ASSERT_TRUE(removal.ok());
  ASSERT_TRUE(ApplyUninstall(*removal, nullptr, &log).ok());
  EXPECT_EQ(Tree(s.path()), before);
}

TEST(Register, PerBrowserInstallTouchesOnlyThatBrowser) {
  for (const BrowserInfo& b : Browsers()) {
    Scratch s;
    Env env = HomeEnv(s);
    RegisterOptions options = Options(Scope::kUser);
    options.browsers = {&b};
    std::vector<std::string> log;
    ASSERT_TRUE(ApplyInstall(*PlanInstall(options, env), nullptr, &log).ok());
    std::set<std::string> manifests;
    for (const std::string& p : Tree(s.path())) {
      if (p.ends_with("org.omnibridge.host.json"))
        manifests.insert(p);
    }
    std::set<std::string> expected;
    for (const std::string& dir : DefaultUserDataDirs(b, env))
      expected.insert(dir + "/NativeMessagingHosts/org.omnibridge.host.json");
    EXPECT_EQ(manifests, expected) << b.id;
    ASSERT_TRUE(ApplyUninstall(*PlanUninstall(options, env), nullptr, &log).ok());
    EXPECT_EQ(Tree(s.path()), std::set<std::string>{env.home}) << b.id;
  }
}

TEST(Register, UninstallLeavesWhatItDidNotWrite) {
  Scratch s;
  Env env = HomeEnv(s);
  RegisterOptions options = Options(Scope::kUser);
  options.browsers = *ParseBrowserList("chrome,chromium");
  std::vector<std::string> log;
  ASSERT_TRUE(ApplyInstall(*PlanInstall(options, env), nullptr, &log).ok());
  // Someone re-pointed Chromium's manifest at another host; Edge's was made by hand.
  const std::string chromium =
      env.config_home + "/chromium/NativeMessagingHosts/org.omnibridge.host.json";
  std::ofstream(chromium) << RenderManifest("/opt/other/omnibridge-host", ShippedExtensionIds());
  const std::string edge =
      env.config_home + "/microsoft-edge/NativeMessagingHosts/org.omnibridge.host.json";
  fs::create_directories(fs::path(edge).parent_path());
  std::ofstream(edge) << RenderManifest("/usr/bin/omnibridge-host", ShippedExtensionIds());

  options.browsers = *ParseBrowserList("all");
  auto plan = PlanUninstall(options, env);
  ASSERT_TRUE(plan.ok());
  EXPECT_THAT(plan->notes, Contains(HasSubstr("left " + edge + ": not written by")));
  log.clear();
  ASSERT_TRUE(ApplyUninstall(*plan, nullptr, &log).ok());
  EXPECT_THAT(log, Contains(HasSubstr("left " + chromium + ": changed since install")));
  EXPECT_TRUE(fs::exists(chromium));
  EXPECT_TRUE(fs::exists(edge));
  EXPECT_FALSE(fs::exists(env.config_home + "/google-chrome"));
  // The record forgot everything: a second uninstall has nothing to remove.
  auto again = PlanUninstall(options, env);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->files.empty());
  EXPECT_FALSE(fs::exists(again->record_path));
}

TEST(Register, SystemWideIntoAScratchRoot) {
  Scratch s;
  Env env = HomeEnv(s);
  env.root = s.path() + "/root";
  auto plan = PlanInstall(Options(Scope::kSystem), env);
  ASSERT_TRUE(plan.ok());
  std::vector<std::string> log;
  ASSERT_TRUE(ApplyInstall(*plan, nullptr, &log).ok());
  for (const char* dir :
       {"/etc/opt/chrome/native-messaging-hosts", "/etc/chromium/native-messaging-hosts",
        "/etc/opt/edge/native-messaging-hosts"}) {
    std::string file = env.root + dir + "/org.omnibridge.host.json";
    EXPECT_EQ(Mode(file), 0644) << file;
    EXPECT_EQ(Mode(env.root + dir), 0755) << dir;
    EXPECT_TRUE(CheckManifest(Slurp(file)).field_errors.empty());
  }
  EXPECT_EQ(Mode(env.root + "/etc/omnibridge/registration.json"), 0644);
  EXPECT_FALSE(fs::exists(env.home + "/.config")) << "--system touches nothing per user";
  ASSERT_TRUE(ApplyUninstall(*PlanUninstall(Options(Scope::kSystem), env), nullptr, &log).ok());
  EXPECT_FALSE(fs::exists(env.root));
}

TEST(Register, ReinstallNarrowsAWidenedMode) {
  Scratch s;
  Env env = HomeEnv(s);
  RegisterOptions options = Options(Scope::kUser);
  options.browsers = *ParseBrowserList("chromium");
  std::vector<std::string> log;
  ASSERT_TRUE(ApplyInstall(*PlanInstall(options, env), nullptr, &log).ok());
  const std::string file =
      env.config_home + "/chromium/NativeMessagingHosts/org.omnibridge.host.json";
  ASSERT_EQ(::chmod(file.c_str(), 0666), 0);
  log.clear();
  ASSERT_TRUE(ApplyInstall(*PlanInstall(options, env), nullptr, &log).ok());
  EXPECT_THAT(log, Contains("unchanged " + file));
  EXPECT_EQ(Mode(file), 0644);
}

TEST(AtomicWrite, NeverGroupOrWorldWritableAndNoTempLeft) {
  Scratch s;
  mode_t old = ::umask(0);
  const std::string file = s.path() + "/m.json";
  ASSERT_TRUE(AtomicWriteFile(file, "one", 0666).ok());
  ::umask(old);
  EXPECT_EQ(Mode(file), 0644);
  ASSERT_TRUE(AtomicWriteFile(file, "two", 0644).ok());
  EXPECT_EQ(Slurp(file), "two");
  EXPECT_EQ(Tree(s.path()), std::set<std::string>{file});
  EXPECT_FALSE(AtomicWriteFile(s.path() + "/missing/dir/m.json", "x", 0644).ok());
}

}  // namespace
}  // namespace omnibridge::install
