// omnibridge-host install/uninstall as processes: a scratch HOME for every browser, --system into
// a scratch root, --dry-run, --user-data-dir, usage errors.
#include <filesystem>
#include <set>
#include <string>

#include "boost/json/parse.hpp"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "install/locations.h"
#include "install/manifest.h"
#include "test_util.h"
#include <sys/stat.h>

namespace omnibridge::install::testing {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using ::testing::HasSubstr;

std::set<std::string> Tree(const std::string& root) {
  std::set<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(root))
    out.insert(e.path().string());
  return out;
}

class Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    home_ = scratch_.path() + "/home";
    fs::create_directories(home_);
    env_ = {{"HOME", home_}, {"XDG_CONFIG_HOME", home_ + "/.config"}};
  }

  RunResult Driver(std::vector<std::string> args) {
    args.insert(args.begin(), OMNI_DRIVER);
    return testing::Run(args, env_);
  }

  Env TestEnv() const {
    Env env;
    env.os = Os::kLinux;
    env.home = home_;
    env.config_home = home_ + "/.config";
    return env;
  }

  Scratch scratch_;
  std::string home_;
  std::map<std::string, std::string> env_;
};

TEST_F(Cli, DryRunPrintsEveryPathAndWritesNothing) {
  RunResult r = Driver({"install", "--dry-run", "--host-path", "/usr/bin/omnibridge-host"});
  ASSERT_EQ(r.exit_code, 0) << r.out;
  for (const BrowserInfo& b : Browsers()) {
    for (const std::string& dir : DefaultUserDataDirs(b, TestEnv()))
      EXPECT_THAT(r.out, HasSubstr("would write " + dir +
                                   "/NativeMessagingHosts/org.omnibridge.host.json"));
  }
  EXPECT_THAT(r.out, HasSubstr("would record " + home_ + "/.config/omnibridge/registration.json"));
  EXPECT_THAT(r.out, HasSubstr("\"path\": \"/usr/bin/omnibridge-host\""));
  EXPECT_EQ(Tree(scratch_.path()), std::set<std::string>{home_});

  RunResult sys = Driver({"install", "--system", "--root", scratch_.path() + "/root", "--dry-run"});
  ASSERT_EQ(sys.exit_code, 0);
  EXPECT_THAT(sys.out,
              HasSubstr("would write " + scratch_.path() +
                        "/root/etc/chromium/native-messaging-hosts/org.omnibridge.host.json"));
  EXPECT_THAT(sys.out, HasSubstr("skipped Opera"));
  EXPECT_FALSE(fs::exists(scratch_.path() + "/root"));
}

TEST_F(Cli, InstallAndUninstallEachBrowserInAScratchHome) {
  for (const BrowserInfo& b : Browsers()) {
    const std::string id(b.id);
    RunResult in = Driver({"install", "--user", "--browser", id, "--host-path", OMNI_HOST_PATH});
    ASSERT_EQ(in.exit_code, 0) << id << ": " << in.out;
    for (const std::string& dir : DefaultUserDataDirs(b, TestEnv())) {
      std::string file = dir + "/NativeMessagingHosts/org.omnibridge.host.json";
      ManifestCheck check = CheckManifest(Slurp(file));
      EXPECT_TRUE(check.parsed && check.field_errors.empty()) << file;
      EXPECT_EQ(check.path, OMNI_HOST_PATH);
      EXPECT_EQ(check.allowed_origins, OriginsFor(ShippedExtensionIds()));
      EXPECT_THAT(in.out, HasSubstr("wrote " + file));
    }
    RunResult again = Driver({"install", "--browser", id, "--host-path", OMNI_HOST_PATH});
    EXPECT_EQ(again.exit_code, 0);
    EXPECT_THAT(again.out, HasSubstr("unchanged "));
    RunResult out = Driver({"uninstall", "--user", "--browser", id});
    ASSERT_EQ(out.exit_code, 0) << out.out;
    EXPECT_THAT(out.out, HasSubstr("removed "));
    EXPECT_EQ(Tree(scratch_.path()), std::set<std::string>{home_}) << id;
  }
}

TEST_F(Cli, SystemWideIntoAScratchRoot) {
  const std::string root = scratch_.path() + "/root";
  RunResult in = Driver({"install", "--system", "--browser", "all", "--root", root, "--host-path",
                         "/usr/bin/omnibridge-host"});
  ASSERT_EQ(in.exit_code, 0) << in.out;
  for (const char* dir : {"/etc/opt/chrome", "/etc/chromium", "/etc/opt/edge"}) {
    std::string file = root + dir + "/native-messaging-hosts/org.omnibridge.host.json";
    EXPECT_EQ(CheckManifest(Slurp(file)).path, "/usr/bin/omnibridge-host") << file;
    struct stat st;
    ASSERT_EQ(::stat(file.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0644u);
  }
  EXPECT_FALSE(fs::exists(home_ + "/.config"));
  RunResult out = Driver({"uninstall", "--system", "--root", root});
  ASSERT_EQ(out.exit_code, 0) << out.out;
  EXPECT_FALSE(fs::exists(root));
}

TEST_F(Cli, DefaultHostPathIsTheRunningExecutable) {
  RunResult in = Driver({"install", "--browser", "chromium"});
  ASSERT_EQ(in.exit_code, 0) << in.out;
  std::string file = home_ + "/.config/chromium/NativeMessagingHosts/org.omnibridge.host.json";
  EXPECT_EQ(CheckManifest(Slurp(file)).path, fs::canonical(OMNI_DRIVER).string());
}

TEST_F(Cli, UserDataDirRegistersThatProfile) {
  const std::string profile = scratch_.path() + "/profile";
  RunResult in = Driver({"install", "--user-data-dir", profile, "--host-path", OMNI_HOST_PATH});
  ASSERT_EQ(in.exit_code, 0) << in.out;
  EXPECT_TRUE(fs::exists(profile + "/NativeMessagingHosts/org.omnibridge.host.json"));
  EXPECT_FALSE(fs::exists(home_ + "/.config/chromium"));
  EXPECT_EQ(Driver({"uninstall", "--user-data-dir", profile}).exit_code, 0);
  EXPECT_FALSE(fs::exists(profile));
}

TEST_F(Cli, UsageErrorsExitTwo) {
  EXPECT_EQ(Driver({"install", "--user", "--system"}).exit_code, 2);
  EXPECT_EQ(Driver({"install", "--browser", "firefox"}).exit_code, 2);
  EXPECT_EQ(Driver({"install", "--browser"}).exit_code, 2);
  EXPECT_EQ(Driver({"uninstall", "--bogus"}).exit_code, 2);
  EXPECT_EQ(Driver({"install", "--host-path", "relative/host"}).exit_code, 2);
  EXPECT_EQ(Driver({"doctor", "--nope"}).exit_code, 2);
  EXPECT_EQ(Driver({"install", "--system", "--user-data-dir", "/tmp/x"}).exit_code, 2);
  EXPECT_EQ(Tree(scratch_.path()), std::set<std::string>{home_});
}

TEST_F(Cli, UninstallWithNothingInstalledSaysSo) {
  RunResult r = Driver({"uninstall"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.out, HasSubstr("nothing to remove"));
}

}  // namespace
}  // namespace omnibridge::install::testing
