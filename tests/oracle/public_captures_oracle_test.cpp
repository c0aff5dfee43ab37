// Public captures oracle: every frame of every third-party capture in
// TEREDO_PUBLIC_PCAPS (read in place, never copied into the repo) is decoded
// by us and by tshark, and every Teredo field is compared. The frame sets must
// be equal too: what tshark calls Teredo is exactly what we call teredo:true.
//
// A difference that is tshark's fault, not ours, is listed in
// kKnownDisagreements with its reason, and the test asserts that it still
// happens exactly so; anything else fails. If our decoder is wrong, the
// decoder is fixed, not the table.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "compare.hpp"
#include "tshark.hpp"

namespace teredo::oracle {
namespace {

namespace fs = std::filesystem;

struct KnownDisagreement {
  const char* file;
  std::uint64_t frame;
  const char* field;
  const char* ours;
  const char* theirs;
  const char* reason;
};

// Differences between our decoder and TShark 4.0.17 that are tshark's fault.
// Each row must still happen, exactly, or the test fails (so the list stays
// honest when tshark or the decoder changes).
const std::vector<KnownDisagreement> kKnownDisagreements = {
    // None today: on the ten captures of SOURCES.md every Teredo field agrees.
    // Rows look like
    //   {"file.pcap", 12, "teredo.orig.port", "3544", "61991", "why tshark is wrong"},
};

// Teredo frames per capture (SOURCES.md, "heur+nodefrag" column): guards
// against an oracle that silently decodes nothing.
const std::map<std::string, std::size_t>& expected_teredo_frames() {
  static const std::map<std::string, std::size_t> counts = {
      {"zeek-Teredo.pcap", 29},
      {"zeek-teredo_bubble_with_payload.pcap", 27},
      {"zeek-gtp8_teredo.pcap", 10},
      {"zeek-teredo-udp-in-udp.pcap", 1},
      {"zeek-false-teredo.pcap", 0},
      {"ndpi-teredo.pcap", 24},
      {"suricata-verify-output-eve-ftp-data-input.pcap", 6},
      {"snort3_demo-teredo.pcap", 8},
      {"snort3_demo-fragged-teredo.pcap", 1},
      {"packetnet-teredo.pcap", 1},
  };
  return counts;
}

const fs::path& public_dir() {
  static const fs::path dir = TEREDO_PUBLIC_PCAPS;
  return dir;
}

// File names of the captures, sorted; {""} when the folder is absent or empty,
// so that one test instance exists to report the skip.
std::vector<std::string> public_captures() {
  std::vector<std::string> names;
  std::error_code ec;
  if (fs::is_directory(public_dir(), ec)) {
    for (const fs::directory_entry& e : fs::directory_iterator(public_dir(), ec)) {
      const std::string ext = e.path().extension().string();
      if (e.is_regular_file() && (ext == ".pcap" || ext == ".pcapng")) {
        names.push_back(e.path().filename().string());
      }
    }
  }
  std::sort(names.begin(), names.end());
  if (names.empty()) names.emplace_back();
  return names;
}

std::string test_name(const testing::TestParamInfo<std::string>& info) {
  if (info.param.empty()) return "absent";
  std::string name;
  for (char c : info.param) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    name.push_back(ok ? c : '_');
  }
  return name;
}

class PublicCaptureOracle : public testing::TestWithParam<std::string> {};

TEST_P(PublicCaptureOracle, EveryTeredoFieldMatchesTshark) {
  if (GetParam().empty()) {
    GTEST_SKIP() << "public captures not found at " << public_dir().string();
  }
  const std::string tshark = find_tshark();
  if (tshark.empty()) {
    GTEST_SKIP() << kNoTshark;
  }
  const std::string path = (public_dir() / GetParam()).string();
  const std::vector<nlohmann::ordered_json> ours = decode_capture(path);
  const TsharkFrames theirs = run_oracle(tshark, path);
  const CaptureComparison c = compare_capture(ours, theirs);

  std::cout << "[oracle] " << GetParam() << ": " << c.frames_total << " frames, Teredo: ours "
            << c.frames_ours << ", tshark " << c.frames_tshark << "; " << c.frames_compared
            << " compared field by field, " << c.fields_compared << " field comparisons ("
            << c.min_fields << ".." << c.max_fields << " per frame), " << c.mismatches.size()
            << " disagreement(s)\n";
  RecordProperty("frames_compared", static_cast<int>(c.frames_compared));
  RecordProperty("fields_compared", static_cast<int>(c.fields_compared));

  const auto expected_count = expected_teredo_frames().find(GetParam());
  if (expected_count != expected_teredo_frames().end()) {
    EXPECT_EQ(c.frames_tshark, expected_count->second)
        << "tshark's Teredo frame count differs from SOURCES.md: is the oracle command right?";
  }

  std::vector<Mismatch> listed;
  for (const KnownDisagreement& k : kKnownDisagreements) {
    if (GetParam() == k.file) listed.push_back(Mismatch{k.frame, k.field, k.ours, k.theirs});
  }
  for (const std::string& problem : reconcile(c.mismatches, listed)) {
    ADD_FAILURE() << GetParam() << ": " << problem;
  }
}

INSTANTIATE_TEST_SUITE_P(Pcaps, PublicCaptureOracle, testing::ValuesIn(public_captures()),
                         test_name);

TEST(PublicCaptureOracleTable, EveryRowNamesACaptureAndSaysWhy) {
  for (const KnownDisagreement& k : kKnownDisagreements) {
    EXPECT_NE(std::string(k.reason), "") << k.file << " frame " << k.frame << " " << k.field;
  }
  if (!fs::is_directory(public_dir())) {
    GTEST_SKIP() << "public captures not found at " << public_dir().string();
  }
  const std::vector<std::string> names = public_captures();
  for (const KnownDisagreement& k : kKnownDisagreements) {
    EXPECT_NE(std::find(names.begin(), names.end(), k.file), names.end())
        << "kKnownDisagreements names " << k.file << ", which is not in " << public_dir().string();
  }
}

// The table mechanism itself: a new difference and a vanished listed one are
// both reported, an exact match is not.
TEST(KnownDisagreements, ReconcileReportsNewAndVanishedDifferences) {
  const Mismatch a{3, "teredo.orig.port", "1", "2"};
  const Mismatch b{4, "teredo", "true", "false"};
  EXPECT_TRUE(reconcile({a, b}, {a, b}).empty());
  const std::vector<std::string> problems = reconcile({a}, {b});
  ASSERT_EQ(problems.size(), 2u);
  EXPECT_NE(problems[0].find("frame 3 teredo.orig.port: ours 1, tshark 2"), std::string::npos);
  EXPECT_NE(problems[1].find("no longer happens"), std::string::npos);
  EXPECT_EQ(reconcile({Mismatch{3, "teredo.orig.port", "1", "3"}}, {a}).size(), 2u);
}

}  // namespace
}  // namespace teredo::oracle
