// A realistic report.json built in the test (no driver needed): every verdict
// at least once, a flaky case with two attempts, a known (baseline) failure,
// XML/HTML-hostile and non-ASCII strings, and the summary/coverage/gate
// computed here, independently of teredo_reports, from the documented rules.
// Also: a small process runner and tool finders for xmllint, python3 and
// chromium.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace teredo::reports::test {

struct FixtureOptions {
  std::string iut_name = "miredo";
  std::string iut_version = "1.2.6";
  bool strict = false;
  // relay.bubble.direct-connectivity ends in a harness error (else: pass).
  bool with_error = true;
  // Cases to leave out, and verdicts to force (the attempts follow).
  std::vector<std::string> drop = {};
  std::map<std::string, std::string> force = {};
};

// Strings the renderers must escape. kHostile holds every XML/HTML
// metacharacter; kUnicode non-ASCII text; kBinary control bytes and bytes that
// are not UTF-8.
inline const std::string kHostile = "<script>alert(\"x\")</script> & 'apos' ]]> -- <&\"'>";
inline const std::string kUnicode = "Zürich – 東京 ✓";
inline const std::string kBinary = std::string("bytes \x01\x02\x1b[31m and \x7f, then \xff\xfe end");

// The RFC sentence of R4380-5.3.2-07 (the failing case's requirement), as the
// catalog quotes it; the other requirements of the fixture carry an empty quote.
inline const std::string kConeQuote =
    "If the cone bit of the client's IPv6 address is set to 1, the RA must be sent from a different IPv4 source address than "
    "the server address over which the RS was received; if the cone bit is set to zero, the response must be sent back from the "
    "same address.";

constexpr const char* kFailCase = "server.rs.cone-reply-from-secondary";
constexpr const char* kWarnCase = "server.secure.unauthenticated-rs-ignored";
constexpr const char* kKnownCase = "client.qualification.cone";
constexpr const char* kErrorCase = "relay.bubble.direct-connectivity";
constexpr const char* kFlakyCase = "relay.forward.to-native";
constexpr const char* kNaCase = "client.qualification.secure-hmac";
constexpr const char* kInconclusiveCase = "client.qualification.symmetric-nat";

nlohmann::json make_report(const FixtureOptions& options = {});

// Recomputes covered_by, summary and gate from the cases (the fixture's own
// implementation of FORMAT.md's rules).
void finalize(nlohmann::json& report);

// Documents that do not read into the report's types, each with the JSON
// pointer the one-line error must name: not an object, a case whose verdict
// is a number, a case without a verdict, a case of an unknown level.
struct InvalidDocument {
  std::string what;
  nlohmann::json document;
  std::string pointer;
};
std::vector<InvalidDocument> invalid_documents();
// Renders each invalid document: "" when every one throws InvalidReport with
// one line that starts "not a report.json" and names its pointer, else what
// went wrong, a line per document.
std::string one_clear_error_failures(const std::function<std::string(const nlohmann::json&)>& render);

// Counts of the cases by verdict.
std::map<std::string, int> verdict_counts(const nlohmann::json& report);

// --- processes and files ------------------------------------------------------

struct ProcessResult {
  int exit_code = -1;  // -1: did not exit normally
  bool timed_out = false;
  std::string out, err;
};

// Runs argv (argv[0] looked up in PATH), stdin from /dev/null, in its own
// process group (killed whole on timeout and after exit).
ProcessResult run_process(const std::vector<std::string>& argv,
                          std::chrono::milliseconds timeout = std::chrono::seconds(60));

std::string find_program(const std::vector<std::string>& names);  // "" when none
std::string python_with_jsonschema();                              // "" when none

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

std::string read_file(const std::filesystem::path& path);
void write_text(const std::filesystem::path& path, const std::string& text);
std::filesystem::path source_path(const std::string& relative);  // under the source tree

}  // namespace teredo::reports::test
