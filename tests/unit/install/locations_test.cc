// The manifest-location table and the plans `install` makes from it, for every OS and browser.
#include "install/locations.h"

#include <algorithm>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "install/manifest.h"
#include "install/registration.h"

namespace omnibridge::install {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

Env LinuxEnv() {
  Env env;
  env.os = Os::kLinux;
  env.home = "/home/agent";
  env.config_home = "/home/agent/.config";
  return env;
}

Env MacEnv() {
  Env env;
  env.os = Os::kMac;
  env.home = "/Users/agent";
  return env;
}

Env WindowsEnv() {
  Env env;
  env.os = Os::kWindows;
  env.home = "C:\\Users\\agent";
  env.local_app_data = "C:\\Users\\agent\\AppData\\Local";
  env.program_data = "C:\\ProgramData";
  return env;
}

RegisterOptions Options(Scope scope) {
  RegisterOptions options;
  options.scope = scope;
  options.host_path = "/usr/bin/omnibridge-host";
  options.extension_ids = {"gdnblmkijkafmbbpidakmcghmgeepcbe"};
  return options;
}

std::vector<std::string> Paths(const Plan& plan) {
  std::vector<std::string> paths;
  for (const FileWrite& f : plan.files)
    paths.push_back(f.path);
  return paths;
}

TEST(BrowserList, AllIsEverySupportedBrowserInOrder) {
  auto all = ParseBrowserList("all");
  ASSERT_TRUE(all.ok());
  std::vector<std::string> ids;
  for (const BrowserInfo* b : *all)
    ids.emplace_back(b->id);
  EXPECT_THAT(ids, ElementsAre("chrome", "chromium", "edge", "brave", "vivaldi", "opera"));
  auto mixed = ParseBrowserList("edge, chrome,edge");
  ASSERT_TRUE(mixed.ok());
  ASSERT_EQ(mixed->size(), 2u);
  EXPECT_EQ((*mixed)[0]->id, "edge");
  EXPECT_EQ(ParseBrowserList("chrome,all")->size(), 6u);
  EXPECT_FALSE(ParseBrowserList("firefox").ok());
  EXPECT_THAT(std::string(ParseBrowserList("firefox").status().message()), HasSubstr("firefox"));
  EXPECT_FALSE(ParseBrowserList("").ok());
}

TEST(LinuxPlan, PerUserWritesEveryBrowsersUserDataDir) {
  auto plan = PlanInstall(Options(Scope::kUser), LinuxEnv());
  ASSERT_TRUE(plan.ok()) << plan.status();
  const std::string m = "/NativeMessagingHosts/org.omnibridge.host.json";
  const std::string c = "/home/agent/.config/";
  EXPECT_THAT(
      Paths(*plan),
      ElementsAre(c + "google-chrome" + m, c + "google-chrome-beta" + m,
                  c + "google-chrome-unstable" + m, c + "chromium" + m, c + "microsoft-edge" + m,
                  c + "microsoft-edge-beta" + m, c + "microsoft-edge-dev" + m,
                  c + "BraveSoftware/Brave-Browser" + m, c + "BraveSoftware/Brave-Browser-Beta" + m,
                  c + "BraveSoftware/Brave-Browser-Nightly" + m, c + "vivaldi" + m,
                  c + "vivaldi-snapshot" + m, c + "opera" + m));
  EXPECT_TRUE(plan->registry.empty());
  EXPECT_EQ(plan->record_path, "/home/agent/.config/omnibridge/registration.json");
}

TEST(LinuxPlan, SystemWideGoesUnderRoot) {
  Env env = LinuxEnv();
  env.root = "/tmp/stage";
  auto plan = PlanInstall(Options(Scope::kSystem), env);
  ASSERT_TRUE(plan.ok());
  const std::string f = "/org.omnibridge.host.json";
  EXPECT_THAT(Paths(*plan),
              ElementsAre("/tmp/stage/etc/opt/chrome/native-messaging-hosts" + f,
                          "/tmp/stage/etc/chromium/native-messaging-hosts" + f,
                          "/tmp/stage/etc/opt/edge/native-messaging-hosts" + f,
                          "/tmp/stage/etc/opt/brave.com/brave/native-messaging-hosts" + f,
                          "/tmp/stage/etc/opt/vivaldi/native-messaging-hosts" + f));
  ASSERT_EQ(plan->notes.size(), 1u);  // Opera: no known system-wide directory
  EXPECT_THAT(plan->notes[0], HasSubstr("Opera"));
  EXPECT_EQ(plan->record_path, "/tmp/stage/etc/omnibridge/registration.json");
}

TEST(LinuxPlan, UserDataDirRegistersThatProfileOnly) {
  RegisterOptions options = Options(Scope::kUser);
  options.user_data_dir = "/tmp/profile";
  auto plan = PlanInstall(options, LinuxEnv());
  ASSERT_TRUE(plan.ok());
  EXPECT_THAT(Paths(*plan),
              ElementsAre("/tmp/profile/NativeMessagingHosts/org.omnibridge.host.json"));
  options.scope = Scope::kSystem;
  EXPECT_TRUE(absl::IsInvalidArgument(PlanInstall(options, LinuxEnv()).status()));
}

TEST(LinuxPlan, RefusesRelativeHostPathAndNoIds) {
  RegisterOptions options = Options(Scope::kUser);
  options.host_path = "bin/omnibridge-host";
  EXPECT_TRUE(absl::IsInvalidArgument(PlanInstall(options, LinuxEnv()).status()));
  options = Options(Scope::kUser);
  options.extension_ids.clear();
  EXPECT_FALSE(PlanInstall(options, LinuxEnv()).ok());
}

TEST(MacPlan, UserAndSystemDirectories) {
  RegisterOptions options = Options(Scope::kUser);
  options.browsers = *ParseBrowserList("chrome,chromium,edge");
  auto user = PlanInstall(options, MacEnv());
  ASSERT_TRUE(user.ok());
  const std::string a = "/Users/agent/Library/Application Support/";
  const std::string m = "/NativeMessagingHosts/org.omnibridge.host.json";
  EXPECT_THAT(Paths(*user), ElementsAre(a + "Google/Chrome" + m, a + "Google/Chrome Beta" + m,
                                        a + "Google/Chrome Canary" + m, a + "Chromium" + m,
                                        a + "Microsoft Edge" + m, a + "Microsoft Edge Beta" + m,
                                        a + "Microsoft Edge Dev" + m));
  options.scope = Scope::kSystem;
  auto system = PlanInstall(options, MacEnv());
  ASSERT_TRUE(system.ok());
  EXPECT_THAT(Paths(*system),
              ElementsAre("/Library/Google/Chrome/NativeMessagingHosts/org.omnibridge.host.json",
                          "/Library/Application Support/Chromium/NativeMessagingHosts/"
                          "org.omnibridge.host.json",
                          "/Library/Microsoft/Edge/NativeMessagingHosts/org.omnibridge.host.json"));
}

TEST(WindowsPlan, PerUserKeysUnderHkcuNameOneManifest) {
  auto plan = PlanInstall(Options(Scope::kUser), WindowsEnv());
  ASSERT_TRUE(plan.ok()) << plan.status();
  const std::string manifest =
      "C:\\Users\\agent\\AppData\\Local\\Omnibridge\\NativeMessagingHosts\\org.omnibridge.host."
      "json";
  ASSERT_EQ(plan->files.size(), 1u);
  EXPECT_EQ(plan->files[0].path, manifest);
  std::vector<std::string> keys;
  for (const RegistryValue& r : plan->registry) {
    EXPECT_EQ(r.hive, "HKEY_CURRENT_USER");
    EXPECT_EQ(r.value_name, "");  // the key's default value
    EXPECT_EQ(r.data, manifest);
    keys.push_back(r.key);
  }
  EXPECT_THAT(keys,
              ElementsAre("SOFTWARE\\Google\\Chrome\\NativeMessagingHosts\\org.omnibridge.host",
                          "SOFTWARE\\Chromium\\NativeMessagingHosts\\org.omnibridge.host",
                          "SOFTWARE\\Microsoft\\Edge\\NativeMessagingHosts\\org.omnibridge.host",
                          "SOFTWARE\\BraveSoftware\\Brave-Browser\\NativeMessagingHosts\\"
                          "org.omnibridge.host",
                          "SOFTWARE\\Vivaldi\\NativeMessagingHosts\\org.omnibridge.host",
                          "SOFTWARE\\Opera Software\\Opera Stable\\NativeMessagingHosts\\"
                          "org.omnibridge.host"));
  // The manifest escapes the backslashes of a Windows host path.
  RegisterOptions options = Options(Scope::kUser);
  options.host_path = "C:\\Program Files\\Omnibridge\\omnibridge-host.exe";
  auto with_exe = PlanInstall(options, WindowsEnv());
  ASSERT_TRUE(with_exe.ok());
  EXPECT_THAT(with_exe->files[0].contents,
              HasSubstr(R"("path": "C:\\Program Files\\Omnibridge\\omnibridge-host.exe")"));
}

TEST(WindowsPlan, SystemKeysUnderHklmAndProgramData) {
  RegisterOptions options = Options(Scope::kSystem);
  options.browsers = *ParseBrowserList("chrome,edge");
  auto plan = PlanInstall(options, WindowsEnv());
  ASSERT_TRUE(plan.ok());
  ASSERT_EQ(plan->registry.size(), 2u);
  EXPECT_EQ(plan->registry[0].hive, "HKEY_LOCAL_MACHINE");
  EXPECT_EQ(plan->registry[0].key,
            "SOFTWARE\\Google\\Chrome\\NativeMessagingHosts\\org.omnibridge.host");
  EXPECT_EQ(plan->registry[1].key,
            "SOFTWARE\\Microsoft\\Edge\\NativeMessagingHosts\\org.omnibridge.host");
  EXPECT_EQ(plan->registry[0].data,
            "C:\\ProgramData\\Omnibridge\\NativeMessagingHosts\\org.omnibridge.host.json");
  auto lines = DescribePlan(*plan, true, true);
  EXPECT_THAT(lines, testing::Contains("would set HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Edge\\"
                                       "NativeMessagingHosts\\org.omnibridge.host\\(Default) = "
                                       "C:\\ProgramData\\Omnibridge\\NativeMessagingHosts\\"
                                       "org.omnibridge.host.json  (edge)"));
  // --user-data-dir means nothing to the Windows lookup.
  options = Options(Scope::kUser);
  options.user_data_dir = "C:\\profile";
  EXPECT_FALSE(PlanInstall(options, WindowsEnv()).ok());
}

TEST(WindowsPlan, ApplyWithoutRegistryIsRefusedOnOtherBuilds) {
  auto plan = PlanInstall(Options(Scope::kUser), WindowsEnv());
  ASSERT_TRUE(plan.ok());
  std::vector<std::string> log;
  EXPECT_TRUE(absl::IsUnimplemented(ApplyInstall(*plan, nullptr, &log)));
}

TEST(Policy, DirectoriesPerBrowser) {
  Env env = LinuxEnv();
  env.root = "/r";
  EXPECT_EQ(PolicyDir(*FindBrowser("chrome"), env), "/r/etc/opt/chrome/policies/managed");
  EXPECT_EQ(PolicyDir(*FindBrowser("chromium"), env), "/r/etc/chromium/policies/managed");
  EXPECT_EQ(PolicyDir(*FindBrowser("edge"), env), "/r/etc/opt/edge/policies/managed");
  EXPECT_EQ(PolicyDir(*FindBrowser("chrome"), MacEnv()), "");
  EXPECT_EQ(SystemConfigFile(env), "/r/etc/omnibridge/config.json");
}

}  // namespace
}  // namespace omnibridge::install
