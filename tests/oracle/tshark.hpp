// Runs tshark as the oracle of the decoder: the exact command of
// pcaps-public/SOURCES.md ("tshark as an oracle"), under an empty, private
// WIRESHARK_CONFIG_DIR so that no user profile can change what it prints, and
// its `-T json -e ...` output read back as field -> values per frame.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace teredo::oracle {

// A directory made with mkdtemp and removed, with its contents, on destruction.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix);
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

 private:
  std::filesystem::path path_;
};

// One frame of tshark's output: every field asked for, with its values in
// protocol-tree order (a field repeats when its layer does: GTP, IPv6 outer,
// several ND options). Absent fields are absent.
using Layers = std::map<std::string, std::vector<std::string>>;
using TsharkFrames = std::map<std::uint64_t, Layers>;  // by frame.number

struct ProcessResult {
  int exit_code = -1;  // -1 when the process could not run or was killed
  std::string out;
  std::string err;
};

// The skip message of every test that needs tshark.
inline constexpr const char* kNoTshark =
    "tshark not found in PATH: the oracle tests compare the decoder with tshark "
    "(Debian: apt-get install tshark)";

// tshark's absolute path from $PATH, or empty when it is not installed.
std::string find_tshark();

// Runs `program args...` (no shell) with WIRESHARK_CONFIG_DIR set to a fresh
// empty directory; collects stdout and stderr.
ProcessResult run_tshark(const std::string& program, const std::vector<std::string>& args);

// First line of `tshark -v`, e.g. "TShark (Wireshark) 4.0.17 (...)".
std::string tshark_version(const std::string& program);

// The fields the oracle asks tshark for (SOURCES.md's list and more).
const std::vector<std::string>& oracle_fields();

// -n -r PCAP -o ip.defragment:FALSE -d udp.port==3544,teredo
// --enable-heuristic teredo_udp -Y teredo -T json -e <oracle_fields()>...
std::vector<std::string> oracle_arguments(const std::string& pcap);

// Parses `-T json -e` output (an array of {"_source": {"layers": {...}}}).
// Throws std::runtime_error on output that is not that shape.
TsharkFrames parse_tshark_json(const std::string& text);

// Runs the oracle command on `pcap` and parses it; throws std::runtime_error
// (with tshark's stderr) when tshark fails.
TsharkFrames run_oracle(const std::string& tshark, const std::string& pcap);

}  // namespace teredo::oracle
