#include "fuzz/replay_session.hpp"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/format.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>

#include "engine/data_dir.hpp"
#include "engine/iut_watch.hpp"
#include "fuzz/oracles.hpp"
#include "fuzz/rig.hpp"
#include "fuzz/session.hpp"
#include "kit/lab_facts.hpp"
#include "kit/packets.hpp"
#include "teredo/netns/lab.hpp"
#include "teredo/netns/topology.hpp"
#include "teredo/reports/gate.hpp"

namespace teredo::conformance::fuzz {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace teredo::wire;
using Clock = std::chrono::steady_clock;

namespace {

namespace lab = kit::lab;
constexpr auto kAnswerWindow = std::chrono::milliseconds(1500);
constexpr std::uint16_t kFirstPort = 42000;  // one source port per replayed datagram, as distinct clients

class Socket {
 public:
  Socket(netns::Lab& l, std::uint16_t port) : fd_(bind_driver_socket(l, port)) {}
  ~Socket() { ::close(fd_); }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;

  void send(Bytes payload) const {
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(lab::kTeredoPort);
    to.sin_addr.s_addr = htonl(kit::ipv4(lab::kServerPrimary).value);
    (void)::sendto(fd_, payload.data(), payload.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
  }
  // What comes back within `window`; stops early once `enough` says so.
  std::vector<ByteVector> receive(std::chrono::milliseconds window,
                                  const std::function<bool(const std::vector<ByteVector>&)>& enough) const {
    std::vector<ByteVector> got;
    std::uint8_t buffer[65536];
    const auto deadline = Clock::now() + window;
    while (Clock::now() < deadline && !enough(got)) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 10) <= 0) continue;
      const ssize_t n = ::recv(fd_, buffer, sizeof buffer, MSG_DONTWAIT);
      if (n > 0) got.emplace_back(buffer, buffer + n);
    }
    return got;
  }

 private:
  int fd_;
};

}  // namespace

json replay_server(const Adapter& adapter, const std::string& pcap_path, const std::vector<ReplayDatagram>& datagrams,
                   const std::string& out_dir, const std::atomic<bool>& interrupted) {
  auto the_lab =
      netns::Lab::up(netns::load_topology(topology_file("server-only")), {});
  IutProcess iut = start_iut(adapter, "server", *the_lab, iut_host("server"), lab_placeholders(*the_lab));
  struct Stop {
    IutProcess& iut;
    ~Stop() { stop_iut(iut); }
  } stop{iut};
  const std::vector<ProcessIdentity> tree = process_tree(iut.pid);
  std::mt19937_64 random(std::random_device{}());
  const Socket control(*the_lab, lab::kControlPort);
  // The control: a valid RS with a fresh nonce, answered by an RA repeating
  // it (sent up to three times: one lost datagram is not a verdict).
  const auto control_answered = [&] {
    Nonce nonce{};
    for (auto& b : nonce) b = static_cast<std::uint8_t>(random());
    const ByteVector payload = probe_rs(nonce);
    for (int attempt = 0; attempt < 3; ++attempt) {
      control.send(payload);
      const auto got = control.receive(kAnswerWindow / 3, [&](const std::vector<ByteVector>& g) {
        return !g.empty() && is_ra_for(g.back(), nonce);
      });
      for (const auto& g : got) {
        if (is_ra_for(g, nonce)) return true;
      }
    }
    return false;
  };
  const auto died = [&]() -> std::optional<std::string> {
    if (!netns::process_alive(iut.pid)) {
      const auto status = iut_exit_status(iut);
      return fmt::format("the IUT (pid {}) {}", iut.pid, status ? netns::describe(*status) : "is no longer running");
    }
    return lost_process(tree);
  };

  json results = json::array();
  std::map<std::string, int> counts;
  for (std::size_t i = 0; i < datagrams.size() && !interrupted; ++i) {
    const ReplayDatagram& d = datagrams[i];
    const Socket s(*the_lab, static_cast<std::uint16_t>(kFirstPort + i % 20000));
    s.send(d.payload);
    json r = {{"frame", d.frame}, {"what", d.what}};
    if (d.router_solicitation) {
      const auto answers = s.receive(kAnswerWindow, [&](const std::vector<ByteVector>& g) {
        return !g.empty() && is_ra_for(g.back(), std::nullopt);
      });
      bool any_ra = false;
      for (const auto& a : answers) any_ra = any_ra || is_ra_for(a, std::nullopt);
      const ReplayVerdict v = judge_replayed_rs(d, answers, any_ra ? false : control_answered());
      r.update({{"kind", "rs"}, {"outcome", v.outcome}, {"requirement", v.requirement}, {"code", v.code},
                {"observed", v.observed}});
    } else {
      // Not judged: the IUT must only survive it (checked below).
      (void)s.receive(std::chrono::milliseconds(50), [](const std::vector<ByteVector>&) { return false; });
      r.update({{"kind", "other"}, {"outcome", "sent"}, {"requirement", nullptr}, {"code", "not_judged"},
                {"observed", d.what + ": sent; only the IUT's survival is judged"}});
    }
    if (const auto how = died()) {
      // JUDGING.md 1: an IUT that dies fails, whatever else was judged.
      r.update({{"outcome", "fail"}, {"requirement", nullptr}, {"code", "iut_died"},
                {"observed", fmt::format("after {}: {}", d.what, *how)}});
      ++counts["fail"];
      results.push_back(std::move(r));
      break;
    }
    ++counts[r["outcome"].get<std::string>()];
    results.push_back(std::move(r));
  }
  const int exit_code = counts["fail"] > 0 ? 1 : counts["inconclusive"] > 0 ? reports::kExitInconclusive : 0;
  json out = {{"pcap", pcap_path},
              {"iut", adapter.name},
              {"role", "server"},
              {"datagrams_in_capture", datagrams.size()},
              {"replayed", results.size()},
              {"complete", results.size() == datagrams.size()},
              {"counts", counts},
              {"exit_code", exit_code},
              {"results", results}};
  fs::create_directories(out_dir + "/replay");
  std::ofstream(out_dir + "/replay/replay.json") << out.dump(2) << '\n';
  std::error_code ignored;
  fs::copy_file(the_lab->run_dir() + "/iut-server.log", out_dir + "/replay/iut.log",
                fs::copy_options::overwrite_existing, ignored);
  return out;
}

}  // namespace teredo::conformance::fuzz
