// omnibridge-host doctor as a process, on a healthy setup (real host answering hello, pbx-sim as
// the ACD) and on each broken one; every defect is reported with its own check and sentence.
#include <filesystem>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "boost/json/parse.hpp"
#include "boost/json/serialize.hpp"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "install/manifest.h"
#include "test_util.h"
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace omnibridge::install::testing {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using ::testing::HasSubstr;

// pbx-sim on ephemeral ports; killed on destruction.
class PbxSim {
 public:
  PbxSim() {
    int out[2];
    if (::pipe(out) != 0)
      return;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(out[1], 1);
      int devnull = ::open("/dev/null", O_RDWR);
      ::dup2(devnull, 0);
      ::dup2(devnull, 2);
      ::close(out[0]);
      ::execl(OMNI_PBX_SIM, OMNI_PBX_SIM, "--ami-port", "0", "--control-port", "0", nullptr);
      ::_exit(127);
    }
    ::close(out[1]);
    std::string line;
    char c;
    while (::read(out[0], &c, 1) == 1 && c != '\n')
      line.push_back(c);
    fd_ = out[0];  // kept open: pbx-sim may print more
    boost::system::error_code ec;
    json::value v = json::parse(line, ec);
    if (!ec && v.is_object() && v.as_object().contains("ami"))
      ami_port_ = static_cast<int>(v.at("ami").to_number<int64_t>());
  }

  ~PbxSim() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (fd_ >= 0)
      ::close(fd_);
  }

  int ami_port() const { return ami_port_; }

 private:
  pid_t pid_ = -1;
  int fd_ = -1;
  int ami_port_ = 0;
};

// A TCP listener that greets with `banner` (not AMI), for cti_not_ami; or a port that was just
// closed (nothing listens), for cti_unreachable.
class FakePeer {
 public:
  explicit FakePeer(std::string banner) : banner_(std::move(banner)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    ::listen(fd_, 4);
    // Every connection gets the banner (the host doctor starts connects too), until shutdown.
    thread_ = std::thread([this] {
      for (;;) {
        int c = ::accept(fd_, nullptr, nullptr);
        if (c < 0)
          return;
        ssize_t w = ::write(c, banner_.data(), banner_.size());
        (void)w;
        ::close(c);
      }
    });
  }

  ~FakePeer() {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }

  int port() const { return port_; }

 private:
  std::string banner_;
  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
};

int ClosedPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

std::string Config(int ami_port) {
  return absl::StrCat(R"({"cti": {"driver": "ami", "ami": {"host": "127.0.0.1", "port": )",
                      ami_port,
                      R"(, "username": "harmony", "secret": "harmony-secret"}},
  "agent": {"id": "1001", "interfaces": ["Local/1001@agents/n"], "queues": ["support"]}})");
}

class Doctor : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_GT(pbx_.ami_port(), 0) << "pbx-sim did not start";
    home_ = scratch_.path() + "/home";
    root_ = scratch_.path() + "/root";
    fs::create_directories(home_ + "/.config/chromium");  // a Chromium profile exists
    fs::create_directories(root_);
    config_ = scratch_.Write("config.json", Config(pbx_.ami_port()));
    env_ = {{"HOME", home_},
            {"XDG_CONFIG_HOME", home_ + "/.config"},
            {"XDG_STATE_HOME", scratch_.path() + "/state"},
            {"OMNIBRIDGE_CONFIG", config_}};
  }

  RunResult Driver(std::vector<std::string> args) {
    args.insert(args.begin(), OMNI_DRIVER);
    return testing::Run(args, env_);
  }

  void Install(const std::string& host_path = OMNI_HOST_PATH) {
    RunResult r = Driver({"install", "--browser", "chromium", "--host-path", host_path});
    ASSERT_EQ(r.exit_code, 0) << r.out;
  }

  std::string UserManifest() const {
    return home_ + "/.config/chromium/NativeMessagingHosts/org.omnibridge.host.json";
  }

  // Runs doctor --json; returns the findings, checks the exit status against "ok".
  json::array DoctorJson(int* exit_code = nullptr) {
    RunResult r = Driver({"doctor", "--root", root_, "--json"});
    boost::system::error_code ec;
    json::value v = json::parse(r.out, ec);
    EXPECT_FALSE(ec) << r.out;
    if (ec)
      return {};
    EXPECT_EQ(v.at("ok").as_bool(), r.exit_code == 0) << r.out;
    if (exit_code)
      *exit_code = r.exit_code;
    last_ = r.out;
    return v.at("findings").as_array();
  }

  // The message of the first finding with `check`, or "" (and a failure) when there is none.
  std::string Expect(const std::string& check, const std::string& severity = "error") {
    int exit_code = 0;
    json::array findings = DoctorJson(&exit_code);
    if (severity == "error" || severity == "warning")
      EXPECT_EQ(exit_code, 1) << last_;
    for (const json::value& f : findings) {
      if (f.at("check") == check.c_str()) {
        EXPECT_EQ(f.at("severity"), severity.c_str()) << last_;
        return std::string(f.at("message").as_string());
      }
    }
    ADD_FAILURE() << "no finding " << check << " in " << last_;
    return "";
  }

  PbxSim pbx_;
  Scratch scratch_;
  std::string home_, root_, config_, last_;
  std::map<std::string, std::string> env_;
};

TEST_F(Doctor, HealthySetupIsAllWell) {
  Install();
  RunResult text = Driver({"doctor", "--root", root_});
  EXPECT_EQ(text.exit_code, 0) << text.out;
  EXPECT_THAT(text.out,
              HasSubstr("Chromium (profile ~/.config/chromium) reads "
                        "~/.config/chromium/NativeMessagingHosts/org.omnibridge.host.json"));
  EXPECT_THAT(text.out, HasSubstr("answers hello"));
  EXPECT_THAT(text.out, HasSubstr("answers: Asterisk Call Manager/"));
  EXPECT_THAT(text.out, HasSubstr("All is well."));
  int exit_code = -1;
  json::array findings = DoctorJson(&exit_code);
  EXPECT_EQ(exit_code, 0);
  for (const json::value& f : findings)
    EXPECT_TRUE(f.at("severity") == "ok" || f.at("severity") == "info") << json::serialize(f);
}

TEST_F(Doctor, MissingManifest) {
  std::string m = Expect("manifest_missing");
  EXPECT_THAT(m, HasSubstr("Chromium (profile ~/.config/chromium) finds no host manifest"));
  EXPECT_THAT(m, HasSubstr("run `omnibridge-host install --user --browser chromium`"));
}

TEST_F(Doctor, WrongHostPath) {
  Install(scratch_.path() + "/moved/omnibridge-host");
  std::string m = Expect("host_missing");
  EXPECT_THAT(m, HasSubstr(scratch_.path() + "/moved/omnibridge-host, which does not exist"));
}

TEST_F(Doctor, HostNotExecutable) {
  std::string host = scratch_.Write("bin/omnibridge-host", "#!/bin/sh\nexit 0\n", 0644);
  Install(host);
  std::string m = Expect("host_not_executable");
  EXPECT_THAT(m, HasSubstr("it is not an executable file; run `chmod 755 " + host + "`"));
}

TEST_F(Doctor, WrongExtensionId) {
  scratch_.Write("home/.config/chromium/NativeMessagingHosts/org.omnibridge.host.json",
                 RenderManifest(OMNI_HOST_PATH, {"abcdefghijklmnopabcdefghijklmnop"}));
  std::string m = Expect("origin_missing");
  EXPECT_THAT(m, HasSubstr("forbids Omnibridge's extension"));
  EXPECT_THAT(m, HasSubstr("allows chrome-extension://abcdefghijklmnopabcdefghijklmnop/ but not " +
                           OriginsFor(ShippedExtensionIds()).front()));
}

TEST_F(Doctor, BlocklistedHostAndTheAllowlistThatFixesIt) {
  Install();
  std::string policy = scratch_.Write("root/etc/chromium/policies/managed/lockdown.json",
                                      R"({"NativeMessagingBlocklist": ["*"]})");
  std::string m = Expect("policy_blocked");
  EXPECT_THAT(m,
              HasSubstr("NativeMessagingBlocklist in " + policy + " blocks org.omnibridge.host"));
  EXPECT_THAT(m, HasSubstr("add \"org.omnibridge.host\" to NativeMessagingAllowlist"));
  // Chromium merges every file of the directory: an allowlist in another file lifts the block.
  scratch_.Write(
      "root/etc/chromium/policies/managed/omnibridge.json",
      "{\"NativeMessagingAllowlist\": [\"org.omnibridge.host\"], // comments are fine\n}");
  int exit_code = -1;
  DoctorJson(&exit_code);
  EXPECT_EQ(exit_code, 0) << last_;
}

TEST_F(Doctor, InvalidConfig) {
  Install();
  scratch_.Write("config.json", R"({"cti": {"ami": {"port": "five"}}})");
  std::string m = Expect("config_invalid");
  EXPECT_THAT(m, HasSubstr("The configuration does not load: "));
  EXPECT_THAT(m, HasSubstr("cti.ami.port"));
}

TEST_F(Doctor, UserLevelHostsDisabledWithOnlyAUserInstall) {
  Install();
  scratch_.Write("root/etc/chromium/policies/managed/p.json",
                 R"({"NativeMessagingUserLevelHosts": false})");
  std::string m = Expect("user_level_disabled");
  EXPECT_THAT(m, HasSubstr("NativeMessagingUserLevelHosts is false"));
  // A system-wide registration is what that policy wants.
  RunResult sys = Driver({"install", "--system", "--browser", "chromium", "--root", root_,
                          "--host-path", OMNI_HOST_PATH});
  ASSERT_EQ(sys.exit_code, 0);
  int exit_code = -1;
  DoctorJson(&exit_code);
  EXPECT_EQ(exit_code, 0) << last_;
}

TEST_F(Doctor, UserManifestShadowsASystemOne) {
  Install(scratch_.Write("bin/old-host", "#!/bin/sh\nexit 3\n", 0755));
  RunResult sys = Driver({"install", "--system", "--browser", "chromium", "--root", root_,
                          "--host-path", OMNI_HOST_PATH});
  ASSERT_EQ(sys.exit_code, 0);
  std::string m = Expect("shadowed", "warning");
  EXPECT_THAT(m, HasSubstr("uses the per-user manifest"));
  EXPECT_THAT(m, HasSubstr("never reads the system-wide " + root_ +
                           "/etc/chromium/native-messaging-hosts/org.omnibridge.host.json"));
  // …and the shadowing host itself exits without answering.
  std::string hello = Expect("host_no_hello");
  EXPECT_THAT(hello, HasSubstr("exited with status 3 before answering hello"));
}

TEST_F(Doctor, MalformedOriginWithoutTrailingSlash) {
  std::string manifest = RenderManifest(OMNI_HOST_PATH, ShippedExtensionIds());
  manifest.replace(manifest.find("/\""), 2, "\"");
  scratch_.Write("home/.config/chromium/NativeMessagingHosts/org.omnibridge.host.json", manifest);
  EXPECT_THAT(Expect("manifest_invalid"), HasSubstr("the trailing slash is required"));
}

TEST_F(Doctor, SnapAndFlatpakBrowsers) {
  Install();
  scratch_.Write("root/snap/bin/chromium", "", 0755);
  EXPECT_THAT(Expect("snap", "warning"), HasSubstr("Chromium is installed as a Snap"));
  fs::create_directories(home_ + "/.var/app/com.brave.Browser");
  EXPECT_THAT(Expect("flatpak", "warning"), HasSubstr("Brave is installed as a Flatpak"));
}

TEST_F(Doctor, CtiLinkDownOrNotAmi) {
  Install();
  scratch_.Write("config.json", Config(ClosedPort()));
  EXPECT_THAT(Expect("cti_unreachable"), HasSubstr("does not answer"));
  FakePeer ssh("SSH-2.0-OpenSSH_9.2\r\n");
  scratch_.Write("config.json", Config(ssh.port()));
  EXPECT_THAT(Expect("cti_not_ami"), HasSubstr("unexpected banner \"SSH-2.0-OpenSSH_9.2\""));
}

TEST_F(Doctor, ChannelDirsInstallCreatedAreNoProfiles) {
  fs::remove_all(home_ + "/.config/chromium");
  fs::create_directories(home_ + "/.config/google-chrome");
  RunResult r = Driver({"install", "--browser", "chrome", "--host-path", OMNI_HOST_PATH});
  ASSERT_EQ(r.exit_code, 0);
  int exit_code = -1;
  int chrome_profiles = 0;
  for (const json::value& f : DoctorJson(&exit_code))
    chrome_profiles += f.at("browser") == "chrome" && f.at("check") == "ok";
  EXPECT_EQ(exit_code, 0) << last_;
  EXPECT_EQ(chrome_profiles, 1) << last_;  // google-chrome, not -beta/-unstable
}

TEST_F(Doctor, NoBrowserAtAll) {
  fs::remove_all(home_ + "/.config/chromium");
  EXPECT_THAT(Expect("no_browser", "warning"), HasSubstr("No supported browser"));
}

}  // namespace
}  // namespace omnibridge::install::testing
