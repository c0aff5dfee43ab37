// The judging rules of conformance/JUDGING.md against deliberately broken
// IUTs (tests/driver/iuts): a gate that passes a crashing IUT is worse than
// no gate.
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "conform_process.hpp"

namespace {

using nlohmann::json;

class Judging : public teredo::testing::ConformProcessTest {
 protected:
  // An adapter for tests/driver/iuts/crashing_server.py in `mode`.
  std::string crashing_server_adapter(const std::string& mode, bool supervise = false) const {
    const std::string name = "crashing-server-" + mode + (supervise ? "-supervised" : "");
    const std::string path = (dir_ / (name + ".json")).string();
    json command = {"python3", std::string(TEREDO_SOURCE_DIR) + "/tests/driver/iuts/crashing_server.py", "--crash-on",
                    mode};
    if (supervise) command.push_back("--supervise");
    command.push_back("{server_v4}");
    command.push_back("{server_v4_secondary}");
    const json adapter = {
        {"name", name},
        {"roles",
         {{"server",
           {{"command", command},
            {"ready", {{"kind", "log-line"}, {"pattern", "crashing_server ready"}, {"timeout_ms", 20000}}}}}}}};
    std::ofstream(path) << adapter.dump(2);
    return path;
  }
  static bool has_iut_died(const json& c) {
    for (const auto& a : c["assertions"]) {
      if (a["code"] == "iut_died" && a["outcome"] == "fail" && a["requirement"].is_null()) return true;
    }
    return false;
  }
};

// The first row: a server that segfaults on its first datagram
// passed the gate with exit 0 (25 pass, 24 inconclusive). Every server case
// sends it a datagram, so every case that ran must fail on iut_died.
TEST_F(Judging, IutThatSegfaultsOnItsFirstDatagramFailsTheGate) {
  const int code = run({"run", "--iut", crashing_server_adapter("first"), "--role", "server", "--retries", "0",
                        "--jobs", "3", "--out", out_dir()});
  EXPECT_EQ(code, 1) << err();
  const json r = report();
  int ran = 0;
  for (const auto& c : r["cases"]) {
    if (c["verdict"] == "not-applicable") continue;
    ++ran;
    EXPECT_EQ(c["verdict"], "fail") << c["case_id"];
    EXPECT_TRUE(has_iut_died(c)) << c["case_id"] << ": " << c["assertions"].dump();
  }
  EXPECT_GT(ran, 40);
  EXPECT_EQ(r["gate"]["result"], "fail");
  const std::string junit = file_text(dir_ / "out" / "junit.xml");
  EXPECT_NE(junit.find("the IUT died during the case"), std::string::npos);
  EXPECT_NE(junit.find("failures=\"" + std::to_string(ran) + "\""), std::string::npos) << junit.substr(0, 400);
}

// The last judging row: a server that crashes only on a truncated
// authentication encapsulation got "inconclusive" for that case and the run
// exited 0. The same IUT without the crash stays alive and is not blamed for
// dying: the rule looks at the process, not at the silence.
TEST_F(Judging, IutThatSegfaultsOnlyOnATruncatedAuthEncapsulationFailsThatCase) {
  const int code = run({"run", "--iut", crashing_server_adapter("truncated-auth"), "--cases",
                        "server.hardening.truncated-auth", "--retries", "0", "--out", out_dir()});
  EXPECT_EQ(code, 1) << err();
  const json r = report();
  ASSERT_EQ(r["cases"].size(), 1u);
  EXPECT_EQ(r["cases"][0]["verdict"], "fail");
  EXPECT_TRUE(has_iut_died(r["cases"][0])) << r["cases"][0]["assertions"].dump();
  const std::string log = file_text(dir_ / "out" / r["cases"][0]["evidence"]["logs"][0]["path"].get<std::string>());
  EXPECT_NE(log.find("datagram of"), std::string::npos) << "the IUT saw the truncated encapsulation";

  std::filesystem::remove_all(dir_ / "out");
  run({"run", "--iut", crashing_server_adapter("never"), "--cases", "server.hardening.truncated-auth", "--retries",
       "0", "--out", out_dir()});
  const json alive = report();
  ASSERT_EQ(alive["cases"].size(), 1u);
  EXPECT_FALSE(has_iut_died(alive["cases"][0])) << alive["cases"][0].dump();
}

// A server that binds its ports, stays alive and answers nothing: silence
// proves nothing about what it sends, so no requirement fails and the cases
// are inconclusive; the gate, which vouches only for what was judged, does
// not pass it (exit 4, result "inconclusive", each case a JUnit failure of
// type inconclusive). It once exited 0 with 49 inconclusive cases.
TEST_F(Judging, ASilentServerIsNeverAPass) {
  const int code = run({"run", "--iut", crashing_server_adapter("never"), "--cases", "server.rs.*", "--retries",
                        "0", "--jobs", "3", "--out", out_dir()});
  EXPECT_EQ(code, 4) << err();
  const json r = report();
  int inconclusive = 0;
  for (const auto& c : r["cases"]) {
    EXPECT_NE(c["verdict"], "pass") << c["case_id"];
    EXPECT_NE(c["verdict"], "fail") << c["case_id"] << ": silence blamed: " << c["assertions"].dump();
    if (c["verdict"] == "inconclusive") ++inconclusive;
  }
  EXPECT_GT(inconclusive, 5);
  EXPECT_EQ(r["gate"]["result"], "inconclusive");
  EXPECT_EQ(r["gate"]["exit_code"], 4);
  EXPECT_EQ(r["gate"]["blocking"].size(), static_cast<std::size_t>(inconclusive));
  const std::string junit = file_text(dir_ / "out" / "junit.xml");
  EXPECT_NE(junit.find("failures=\"" + std::to_string(inconclusive) + "\""), std::string::npos)
      << junit.substr(0, 400);
  EXPECT_NE(junit.find("type=\"inconclusive\""), std::string::npos);
}

// Debian's miredo-server restarts a worker that crashed ("Child 1990
// killed by signal 11", then "Starting..."): its main PID lives on. A worker
// that dies is a death of the IUT all the same.
TEST_F(Judging, AWorkerCrashHiddenByASupervisorStillFailsTheCase) {
  const int code = run({"run", "--iut", crashing_server_adapter("first", true), "--cases", "server.rs.reply-from-primary",
                        "--retries", "0", "--out", out_dir()});
  EXPECT_EQ(code, 1) << err();
  const json r = report();
  ASSERT_EQ(r["cases"].size(), 1u);
  EXPECT_EQ(r["cases"][0]["verdict"], "fail");
  ASSERT_TRUE(has_iut_died(r["cases"][0])) << r["cases"][0]["assertions"].dump();
  bool named = false;
  for (const auto& a : r["cases"][0]["assertions"]) {
    if (a["code"] == "iut_died") named = a["observed"].get<std::string>().find("lived on") != std::string::npos;
  }
  EXPECT_TRUE(named) << "the report names the worker that died and the supervisor that lived on";
}

// JUDGING.md §7: a case judges only what its quoted sentence requires.
// R4380-5.1.2-01 sets the Teredo link MTU and says nothing about what a
// server does with a larger packet, so whether one is relayed is recorded
// (info), never a warn or fail on that requirement; the case judges that the
// server keeps forwarding afterwards (R4380-5.3.1-07).
TEST_F(Judging, ARelayedOversizedPacketIsRecordedNotJudgedOnTheMtuRequirement) {
  const int code = run({"run", "--iut", "reference", "--cases", "server.hardening.oversized-packet", "--retries", "0",
                        "--out", out_dir()});
  EXPECT_EQ(code, 0) << err();
  const json r = report();
  ASSERT_EQ(r["cases"].size(), 1u);
  const json& c = r["cases"][0];
  EXPECT_EQ(c["verdict"], "pass") << c.dump();
  for (const auto& a : c["assertions"]) EXPECT_NE(a["requirement"], "R4380-5.1.2-01") << a.dump();
  for (const auto& id : c["requirements"]) EXPECT_NE(id, "R4380-5.1.2-01");
  bool recorded = false;
  for (const auto& m : c["messages"]) {
    recorded |= m["level"] == "info" && m["text"].get<std::string>().find("1400-byte") != std::string::npos;
  }
  EXPECT_TRUE(recorded) << "what happened to the 1400-byte packet is recorded: " << c["messages"].dump();
}

}  // namespace
