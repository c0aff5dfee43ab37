// The teredo-conform command line as a person meets it: bad input gives one
// clear line on stderr and exit code 2, bad usage exit code 3, and the sample
// capture committed in pcaps/ is exactly what our builders produce today.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>

#include "samples/sample_captures.hpp"

namespace fs = std::filesystem;

namespace {

struct Outcome {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("teredo-cli-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  Outcome run(const std::string& args) {
    const fs::path out = dir_ / "stdout", err = dir_ / "stderr";
    const std::string command = std::string(TEREDO_CONFORM_BIN) + " " + args + " >" + out.string() +
                                " 2>" + err.string() + " </dev/null";
    const int status = std::system(command.c_str());
    Outcome o;
    o.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    o.out = slurp(out);
    o.err = slurp(err);
    return o;
  }

  static void expect_one_error_line(const Outcome& o, const std::string& needle) {
    EXPECT_EQ(o.exit_code, 2) << o.err;
    EXPECT_EQ(std::count(o.err.begin(), o.err.end(), '\n'), 1) << o.err;
    EXPECT_NE(o.err.find("teredo-conform: "), std::string::npos) << o.err;
    EXPECT_NE(o.err.find(needle), std::string::npos) << o.err;
    EXPECT_EQ(o.err.find("terminate"), std::string::npos) << o.err;
  }

  fs::path dir_;
};

const fs::path kLifecycle = fs::path(TEREDO_SOURCE_DIR) / "pcaps" / "teredo-lifecycle.pcap";

TEST_F(CliTest, MissingCaptureFileIsOneErrorLine) {
  expect_one_error_line(run("decode --pcap " + (dir_ / "nope.pcap").string()), "cannot open");
}

TEST_F(CliTest, FileThatIsNotACaptureIsOneErrorLine) {
  std::ofstream(dir_ / "text.pcap") << "this is not a capture file\n";
  expect_one_error_line(run("decode --pcap " + (dir_ / "text.pcap").string()),
                        "is not a readable capture");
}

TEST_F(CliTest, TruncatedCaptureKeepsDecodedFramesThenFails) {
  const std::string whole = slurp(kLifecycle);
  ASSERT_GT(whole.size(), 200u);
  // Cut inside the third record: two whole frames survive.
  const auto frames = teredo::samples::lifecycle_frames();
  const std::size_t cut = 24 + 2 * 16 + frames[0].frame.size() + frames[1].frame.size() + 16 + 10;
  std::ofstream(dir_ / "cut.pcap", std::ios::binary) << whole.substr(0, cut);
  const Outcome o = run("decode --pcap " + (dir_ / "cut.pcap").string());
  expect_one_error_line(o, "after frame 2");
  EXPECT_EQ(std::count(o.out.begin(), o.out.end(), '\n'), 2) << o.out;
}

TEST_F(CliTest, BadHexIsOneErrorLine) {
  expect_one_error_line(run("decode --hex zz00"), "not a hex string");
  expect_one_error_line(run("decode --hex 600"), "not a hex string");
}

TEST_F(CliTest, TruncatedDatagramNamesItsErrorCode) {
  // An origin indication cut after its port.
  const Outcome o = run("decode --hex 0000feae");
  expect_one_error_line(o, "truncated_origin_indication");
  EXPECT_EQ(nlohmann::json::parse(o.out).at("error"), "truncated_origin_indication");
}

TEST_F(CliTest, HexDatagramDecodes) {
  // RFC 4380 §5.1.1's origin indication (port 337, 1.2.3.4) before a bubble
  // from 2001:db8::1 to 2001:db8::2.
  const std::string bubble =
      "0000feaefefdfcfb" "6000000000003bff" "20010db8000000000000000000000001"
      "20010db8000000000000000000000002";
  const Outcome o = run("decode --hex " + bubble);
  ASSERT_EQ(o.exit_code, 0) << o.err;
  const auto j = nlohmann::json::parse(o.out);
  EXPECT_EQ(j.at("origin").at("port"), 337);
  EXPECT_EQ(j.at("origin").at("ipv4"), "1.2.3.4");
  EXPECT_EQ(j.at("bubble"), true);
  EXPECT_EQ(j.at("ipv6").at("source"), "2001:db8::1");
}

TEST_F(CliTest, BadAddressesAreOneErrorLine) {
  expect_one_error_line(run("address not-an-address"), "bad_ipv6_text");
  expect_one_error_line(run("address 2001:db8::1"), "not_teredo_prefix");
  expect_one_error_line(run("address --server 300.1.1.1 --port 1 --ipv4 192.0.2.1"),
                        "--server");
  expect_one_error_line(run("address --server 192.0.2.1 --port 1 --ipv4 x"), "--ipv4");
}

TEST_F(CliTest, BadUsageExitsThree) {
  EXPECT_EQ(run("decode --no-such-flag").exit_code, 3);
  EXPECT_EQ(run("no-such-command").exit_code, 3);
  EXPECT_EQ(run("").exit_code, 3);
  EXPECT_EQ(run("address --port 70000 --server 192.0.2.1 --ipv4 192.0.2.2").exit_code, 3);
  EXPECT_EQ(run("address --server 192.0.2.1").exit_code, 3);
}

TEST_F(CliTest, AddressWellKnownVector) {
  // The example address of RFC 4380's era: Microsoft's server 65.54.227.120,
  // cone, client 192.0.2.45 behind port 40000.
  const Outcome o = run("address 2001:0000:4136:e378:8000:63bf:3fff:fdd2");
  ASSERT_EQ(o.exit_code, 0) << o.err;
  const auto j = nlohmann::json::parse(o.out);
  EXPECT_EQ(j.at("server"), "65.54.227.120");
  EXPECT_EQ(j.at("cone"), true);
  EXPECT_EQ(j.at("mapped_port"), 40000);
  EXPECT_EQ(j.at("mapped_ipv4"), "192.0.2.45");
  EXPECT_EQ(j.at("address"), "2001:0:4136:e378:8000:63bf:3fff:fdd2");
}

TEST_F(CliTest, AddressBuildMasksRandomBits) {
  const Outcome o = run("address --server 65.54.227.120 --port 40000 --ipv4 192.0.2.45 --random 65535");
  ASSERT_EQ(o.exit_code, 0) << o.err;
  const auto j = nlohmann::json::parse(o.out);
  EXPECT_EQ(j.at("flags"), "0x3cff");
  EXPECT_EQ(j.at("cone"), false);
  EXPECT_EQ(j.at("address"), "2001:0:4136:e378:3cff:63bf:3fff:fdd2");
}

TEST_F(CliTest, CommittedSampleCaptureMatchesTheBuilders) {
  const Outcome o = run("samples --out " + (dir_ / "fresh.pcap").string());
  ASSERT_EQ(o.exit_code, 0) << o.err;
  EXPECT_EQ(slurp(dir_ / "fresh.pcap"), slurp(kLifecycle))
      << "pcaps/teredo-lifecycle.pcap is stale: regenerate it with `teredo-conform samples --out "
         "pcaps/teredo-lifecycle.pcap` and review the change";
}

TEST_F(CliTest, DecodesEverySampleFrameWithoutError) {
  const Outcome o = run("decode --pcap " + kLifecycle.string());
  ASSERT_EQ(o.exit_code, 0) << o.err;
  std::istringstream lines(o.out);
  std::string line;
  std::size_t count = 0;
  while (std::getline(lines, line)) {
    const auto j = nlohmann::json::parse(line);
    EXPECT_TRUE(j.at("teredo").get<bool>()) << line;
    EXPECT_FALSE(j.contains("error")) << line;
    ++count;
  }
  EXPECT_EQ(count, teredo::samples::lifecycle_frames().size());
}

}  // namespace
