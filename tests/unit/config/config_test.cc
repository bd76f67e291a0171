#include "config/config.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "boost/json/parse.hpp"
#include "gtest/gtest.h"

namespace omnibridge::config {
namespace {

class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("omni-config-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }

  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Write(const std::string& name, const std::string& text) {
    std::string path = (dir_ / name).string();
    std::ofstream(path) << text;
    return path;
  }

  std::filesystem::path dir_;
};

TEST_F(ConfigTest, DefaultsWhenNoFileExists) {
  Layers layers;
  layers.system_file = (dir_ / "missing-system.json").string();
  layers.user_file = (dir_ / "missing-user.json").string();
  layers.default_allowed_origins = {"chrome-extension://abc/"};
  auto result = Load(layers);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->config.cti.driver, "ami");
  EXPECT_EQ(result->config.cti.ami.port, 5038);
  EXPECT_EQ(result->config.max_frame_bytes, 1024 * 1024);
  EXPECT_EQ(result->config.allowed_origins, std::vector<std::string>{"chrome-extension://abc/"});
  EXPECT_TRUE(result->files_read.empty());
}

TEST_F(ConfigTest, UserOverridesManagedOverridesSystem) {
  Layers layers;
  layers.system_file = Write("system.json", R"({
    "cti": {"ami": {"host": "pbx.corp", "port": 5039, "tls": true, "username": "cti"}},
    "agent": {"reasonCodes": ["Break", "Lunch"]}
  })");
  layers.managed = boost::json::parse(R"({"cti": {"ami": {"port": 6000, "secret": "leak"}},
                                         "agent": {"reasonCodes": ["Meeting"]}})")
                       .as_object();
  layers.user_file =
      Write("user.json", R"({"agent": {"id": "1001"}, "cti": {"ami": {"secret": "s"}}})");
  auto result = Load(layers);
  ASSERT_TRUE(result.ok()) << result.status();
  const Config& c = result->config;
  EXPECT_EQ(c.cti.ami.host, "pbx.corp");  // system
  EXPECT_EQ(c.cti.ami.port, 6000);        // managed over system
  EXPECT_TRUE(c.cti.ami.tls);
  EXPECT_EQ(c.cti.ami.secret, "s");  // user; the managed secret was dropped
  EXPECT_EQ(c.agent.id, "1001");
  EXPECT_EQ(c.agent.reason_codes, std::vector<std::string>{"Meeting"});  // arrays replace
  bool warned_secret = false;
  for (const Warning& w : result->warnings)
    warned_secret |= w.key == "cti.ami.secret";
  EXPECT_TRUE(warned_secret);
  EXPECT_EQ(result->files_read.size(), 2u);
}

TEST_F(ConfigTest, UnknownKeysWarnWithFileAndKey) {
  Layers layers;
  layers.user_file = Write("user.json", R"({"agent": {"id": "1", "colour": "red"}, "x": 1})");
  auto result = Load(layers);
  ASSERT_TRUE(result.ok());
  ASSERT_EQ(result->warnings.size(), 2u);
  EXPECT_EQ(result->warnings[0].file, layers.user_file);
  EXPECT_EQ(result->warnings[0].key, "agent.colour");
  EXPECT_EQ(result->warnings[1].key, "x");
}

TEST_F(ConfigTest, ErrorsNameFileKeyAndReason) {
  struct Case {
    std::string text;
    std::string key;
    std::string reason;
  } cases[] = {
      {R"({"cti": {"ami": {"port": "5038"}}})", "cti.ami.port", "integer"},
      {R"({"cti": {"ami": {"port": 70000}}})", "cti.ami.port", "1 to 65535"},
      {R"({"cti": {"driver": "tapi"}})", "cti.driver", "one of ami"},
      {R"({"allowedOrigins": ["chrome-extension://abc"]})", "allowedOrigins", "trailing slash"},
      {R"({"agent": {"interfaces": ["a", 3]}})", "agent.interfaces", "array<string>"},
      {R"({"log": {"level": "loud"}})", "log.level", "one of"},
      {R"({"cti": [1]})", "cti", "object"},
  };

  for (const Case& c : cases) {
    Layers layers;
    layers.user_file = Write("bad.json", c.text);
    auto result = Load(layers);
    ASSERT_FALSE(result.ok()) << c.text;
    std::string message(result.status().message());
    EXPECT_NE(message.find(layers.user_file), std::string::npos) << message;
    EXPECT_NE(message.find(c.key), std::string::npos) << message;
    EXPECT_NE(message.find(c.reason), std::string::npos) << message;
  }
}

TEST_F(ConfigTest, MalformedJsonNamesTheFile) {
  Layers layers;
  layers.system_file = Write("system.json", "{\"cti\": ");
  auto result = Load(layers);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(std::string(result.status().message()).find(layers.system_file), std::string::npos);
  EXPECT_NE(std::string(result.status().message()).find("not valid JSON"), std::string::npos);
}

TEST_F(ConfigTest, SecretFileIsRead) {
  std::string secret = Write("secret", "hunter2\n");
  Layers layers;
  layers.user_file = Write("user.json", R"({"cti": {"ami": {"secretFile": ")" + secret + R"("}}})");
  auto result = Load(layers);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->config.cti.ami.secret, "hunter2");

  layers.user_file = Write("user2.json", R"({"cti": {"ami": {"secretFile": "/nonexistent/x"}}})");
  EXPECT_FALSE(Load(layers).ok());
}

TEST_F(ConfigTest, PathsFollowXdgAndOverride) {
  ::setenv("XDG_CONFIG_HOME", "/tmp/xdg-config", 1);
  ::setenv("XDG_STATE_HOME", "/tmp/xdg-state", 1);
  ::unsetenv("OMNIBRIDGE_CONFIG");
  EXPECT_EQ(UserConfigDir(), "/tmp/xdg-config/omnibridge");
  EXPECT_EQ(DefaultUserConfigPath(), "/tmp/xdg-config/omnibridge/config.json");
  EXPECT_EQ(UserLogDir(), "/tmp/xdg-state/omnibridge");
  ::setenv("OMNIBRIDGE_CONFIG", "/srv/demo.json", 1);
  EXPECT_EQ(DefaultUserConfigPath(), "/srv/demo.json");
  EXPECT_EQ(UserConfigDir(), "/tmp/xdg-config/omnibridge");  // connect-token stays per user
  ::unsetenv("OMNIBRIDGE_CONFIG");
  EXPECT_EQ(DefaultSystemConfigPath(), "/etc/omnibridge/config.json");
}

}  // namespace
}  // namespace omnibridge::config
