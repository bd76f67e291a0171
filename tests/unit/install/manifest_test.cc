// The rendered manifest is what Chromium accepts (§3) and what CMake renders; the checker finds
// each defect the research saw break a manifest.
#include "install/manifest.h"

#include <fstream>
#include <sstream>
#include <string>

#include "boost/json/parse.hpp"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace omnibridge::install {
namespace {

namespace json = boost::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(Manifest, ShippedIdsComeFromExtensionIdTxt) {
  auto ids = ShippedExtensionIds();
  ASSERT_FALSE(ids.empty());
  std::string file = Slurp("manifests/extension-id.txt");  // tests run at the repo root
  for (const std::string& id : ids) {
    EXPECT_TRUE(IsExtensionId(id)) << id;
    EXPECT_THAT(file, HasSubstr(id));
  }
}

TEST(Manifest, RenderedManifestIsStrictAndComplete) {
  std::string text =
      RenderManifest("/usr/bin/omnibridge-host",
                     {"gdnblmkijkafmbbpidakmcghmgeepcbe", "abcdefghijklmnopabcdefghijklmnop"});
  json::value v = json::parse(text);
  const json::object& o = v.as_object();
  EXPECT_EQ(o.at("name"), "org.omnibridge.host");
  EXPECT_EQ(o.at("type"), "stdio");
  EXPECT_EQ(o.at("path"), "/usr/bin/omnibridge-host");
  EXPECT_FALSE(o.at("description").as_string().empty());
  EXPECT_EQ(o.at("allowed_origins"),
            json::parse(R"(["chrome-extension://gdnblmkijkafmbbpidakmcghmgeepcbe/",
                             "chrome-extension://abcdefghijklmnopabcdefghijklmnop/"])"));
  ManifestCheck check = CheckManifest(text);
  EXPECT_TRUE(check.parsed);
  EXPECT_TRUE(check.field_errors.empty());
  EXPECT_TRUE(check.bad_origins.empty());
}

TEST(Manifest, SameAsTheOneCMakeRenders) {
  std::string cmake = Slurp(OMNI_RENDERED_MANIFEST);
  ASSERT_FALSE(cmake.empty()) << OMNI_RENDERED_MANIFEST;
  EXPECT_EQ(RenderManifest(OMNI_HOST_INSTALL_PATH, ShippedExtensionIds()), cmake);
  json::value firefox = json::parse(Slurp(OMNI_RENDERED_FIREFOX_MANIFEST));
  EXPECT_EQ(firefox.at("name"), "org.omnibridge.host");
  EXPECT_TRUE(firefox.at("allowed_extensions").is_array());
  EXPECT_EQ(firefox.as_object().if_contains("allowed_origins"), nullptr);
}

TEST(Manifest, EscapesPathsForJson) {
  std::string text = RenderManifest("/opt/o \"mni\"/host", {"gdnblmkijkafmbbpidakmcghmgeepcbe"});
  EXPECT_EQ(json::parse(text).at("path"), "/opt/o \"mni\"/host");
}

TEST(ManifestCheck, FindsEachDefectChromiumRejects) {
  const std::string good =
      RenderManifest("/usr/bin/omnibridge-host", {"gdnblmkijkafmbbpidakmcghmgeepcbe"});
  auto replace = [&](const std::string& from, const std::string& to) {
    std::string s = good;
    s.replace(s.find(from), from.size(), to);
    return CheckManifest(s);
  };
  EXPECT_THAT(replace("pcbe/\"", "pcbe\"").bad_origins,
              ElementsAre("chrome-extension://gdnblmkijkafmbbpidakmcghmgeepcbe"));
  EXPECT_EQ(replace("gdnblmkijkafmbbpidakmcghmgeepcbe", "*").bad_origins.size(), 1u);
  EXPECT_FALSE(replace("\"stdio\"", "\"stdio\",").parsed);  // trailing comma
  EXPECT_THAT(replace("\"/usr/bin", "\"usr/bin").field_errors,
              ElementsAre("\"path\" is not absolute"));
  EXPECT_THAT(replace("\"org.omnibridge.host\"", "\"org.other.host\"").field_errors,
              ElementsAre(HasSubstr("\"name\"")));
  EXPECT_THAT(replace("Omnibridge CTI host", "").field_errors,
              ElementsAre("\"description\" is missing or empty"));
  EXPECT_THAT(replace("stdio", "tcp").field_errors, ElementsAre("\"type\" is not \"stdio\""));
  EXPECT_FALSE(CheckManifest("[1]").parsed);
  EXPECT_TRUE(replace("pcbe/\"", "pcbe/*\"").bad_origins.empty());  // "/*" is accepted
}

}  // namespace
}  // namespace omnibridge::install
