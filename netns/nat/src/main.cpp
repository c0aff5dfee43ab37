// teredo-nat: the lab's userspace NAT box. It runs in the NAT host's namespace,
// reads IPv4 frames from the inside and outside interfaces (AF_PACKET), lets
// NatEngine translate them, and sends the results through a raw IPv4 socket
// (the kernel routes them and resolves neighbours). The lab keeps the NAT
// host's kernel out of the way (no forwarding, an nftables guard).
//
//   teredo-nat --config FILE
//
// Control socket (Unix stream, one command per connection, one JSON line back):
//   ping | stats | rebind | expire | blackout MS | upnp | upnp-refuse ACTION CODE
//
// With "upnp" in its configuration it is also the LAN's UPnP IGD (igd.hpp):
// SSDP on 239.255.255.250:1900 and HTTP/SOAP on the inside address, port
// 5000; every SOAP call goes to the log as one "upnp {json}" line and to the
// answer of the "upnp" command.
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <unistd.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <algorithm>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>

#include "teredo/nat/igd.hpp"
#include "teredo/nat/nat_engine.hpp"

namespace {

using teredo::nat::NatEngine;
using teredo::nat::Time;

[[noreturn]] void die(const std::string& what) {
  std::cerr << "teredo-nat: " << what << std::endl;
  std::exit(2);
}

Time now() {
  return std::chrono::duration_cast<Time>(std::chrono::steady_clock::now().time_since_epoch());
}

std::uint32_t ipv4(const std::string& text) {
  in_addr a{};
  if (inet_pton(AF_INET, text.c_str(), &a) != 1) die("bad IPv4 address " + text);
  return ntohl(a.s_addr);
}

int packet_socket(const std::string& ifname) {
  const int fd = ::socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, htons(ETH_P_IP));
  if (fd < 0) die(fmt::format("AF_PACKET socket: {}", std::strerror(errno)));
  sockaddr_ll addr{};
  addr.sll_family = AF_PACKET;
  addr.sll_protocol = htons(ETH_P_IP);
  addr.sll_ifindex = static_cast<int>(if_nametoindex(ifname.c_str()));
  if (addr.sll_ifindex == 0) die("no interface " + ifname);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    die(fmt::format("bind to {}: {}", ifname, std::strerror(errno)));
  }
  const int one = 1;
  // Our own transmissions must not come back to us.
  ::setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one);
  // Bursts must queue rather than drop: FORCE goes past rmem_max (we are root).
  const int buffer = 8 << 20;
  if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buffer, sizeof buffer) != 0) {
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buffer, sizeof buffer);
  }
  return fd;
}

nlohmann::json call_json(const teredo::nat::UpnpCall& c) {
  return {{"action", c.action},
          {"client", c.client},
          {"arguments", c.arguments},
          {"error", c.error},
          {"outbound_before", c.outbound_before}};
}

struct Box {
  NatEngine engine;
  std::unique_ptr<teredo::nat::Igd> igd{};  // with "upnp" only
  int raw = -1;
  std::uint64_t sent = 0, send_errors = 0;

  // Sends translated packets in one sendmmsg call per received batch; the
  // kernel routes each by its destination and resolves the neighbour.
  void send_batch(mmsghdr* messages, int count) {
    int done = 0;
    while (done < count) {
      const int n = ::sendmmsg(raw, messages + done, static_cast<unsigned>(count - done), 0);
      if (n <= 0) {
        ++send_errors;  // skip the packet that failed and go on
        ++done;
        continue;
      }
      sent += static_cast<std::uint64_t>(n);
      done += n;
    }
  }

  // Drains one interface with recvmmsg batches.
  void drain(int fd, bool inside) {
    constexpr int kBatch = 32;
    static std::uint8_t buffers[kBatch][2048];
    mmsghdr messages[kBatch];
    iovec iov[kBatch];
    sockaddr_ll from[kBatch];
    for (;;) {
      for (int i = 0; i < kBatch; ++i) {
        iov[i] = {buffers[i], sizeof buffers[i]};
        messages[i] = {};
        messages[i].msg_hdr.msg_iov = &iov[i];
        messages[i].msg_hdr.msg_iovlen = 1;
        messages[i].msg_hdr.msg_name = &from[i];
        messages[i].msg_hdr.msg_namelen = sizeof from[i];
      }
      const int n = ::recvmmsg(fd, messages, kBatch, MSG_DONTWAIT, nullptr);
      if (n <= 0) return;
      const Time t = now();
      mmsghdr out[kBatch];
      iovec out_iov[kBatch];
      sockaddr_in to[kBatch];
      int count = 0;
      for (int i = 0; i < n; ++i) {
        // Only frames addressed to this host: a NAT forwards no broadcast or
        // multicast (local discovery must stay on its own link).
        if (from[i].sll_pkttype != PACKET_HOST) continue;
        std::span<std::uint8_t> packet(buffers[i], messages[i].msg_len);
        const auto d = inside ? engine.from_inside(t, packet) : engine.from_outside(t, packet);
        if (d.verdict != teredo::nat::Verdict::send) continue;
        to[count] = {};
        to[count].sin_family = AF_INET;
        std::memcpy(&to[count].sin_addr.s_addr, packet.data() + 16, 4);
        // Only the IPv4 datagram: Ethernet pads short frames, and a raw
        // socket would count the padding into the total length.
        const std::size_t total = static_cast<std::size_t>((packet[2] << 8) | packet[3]);
        out_iov[count] = {packet.data(), std::min(total, packet.size())};
        out[count] = {};
        out[count].msg_hdr.msg_name = &to[count];
        out[count].msg_hdr.msg_namelen = sizeof to[count];
        out[count].msg_hdr.msg_iov = &out_iov[count];
        out[count].msg_hdr.msg_iovlen = 1;
        ++count;
      }
      if (count > 0) send_batch(out, count);
      if (n < kBatch) return;
    }
  }
};

std::string handle_command(Box& box, const std::string& line) {
  std::istringstream in(line);
  std::string verb;
  in >> verb;
  nlohmann::json j;
  if (verb == "ping") {
    j["pong"] = true;
  } else if (verb == "rebind") {
    j["rebound"] = box.engine.rebind(now());
    std::cout << "event rebind mappings=" << j["rebound"] << std::endl;
  } else if (verb == "expire") {
    j["expired"] = box.engine.expire_all();
    std::cout << "event expire mappings=" << j["expired"] << std::endl;
  } else if (verb == "blackout") {
    long long ms = 0;
    if (!(in >> ms) || ms <= 0) {
      j["error"] = "blackout needs a duration in milliseconds";
    } else {
      box.engine.blackout(now(), std::chrono::milliseconds(ms));
      j["blackout_ms"] = ms;
      std::cout << "event blackout ms=" << ms << std::endl;
    }
  } else if (verb == "filtering") {
    // filtering BEHAVIOUR: RFC 4787 filtering from now on (the mapping behaviour stays).
    std::string name;
    in >> name;
    using teredo::netns::Filtering;
    const std::pair<const char*, Filtering> names[] = {{"endpoint-independent", Filtering::endpoint_independent},
                                                       {"address-dependent", Filtering::address_dependent},
                                                       {"address-and-port-dependent",
                                                        Filtering::address_and_port_dependent}};
    const auto it = std::find_if(std::begin(names), std::end(names), [&](const auto& n) { return name == n.first; });
    if (it == std::end(names)) {
      j["error"] = "filtering needs endpoint-independent, address-dependent or address-and-port-dependent";
    } else {
      box.engine.set_filtering(it->second);
      j["filtering"] = name;
      std::cout << "event filtering " << name << std::endl;
    }
  } else if (verb == "stats") {
    j["mappings"] = nlohmann::json::array();
    for (const auto& m : box.engine.mappings()) {
      nlohmann::json mj{{"internal", teredo::nat::to_string(m.internal)}, {"external_port", m.external_port}};
      mj["permitted"] = nlohmann::json::array();
      for (const auto& p : m.permitted) mj["permitted"].push_back(teredo::nat::to_string(p));
      if (m.port_mapping) mj["port_mapping"] = true;
      j["mappings"].push_back(mj);
    }
    for (int o = 0; o < static_cast<int>(teredo::nat::Outcome::count_); ++o) {
      const auto outcome = static_cast<teredo::nat::Outcome>(o);
      j["counters"][teredo::nat::to_string(outcome)] = box.engine.counter(outcome);
    }
    j["counters"]["sent"] = box.sent;
    j["counters"]["send_errors"] = box.send_errors;
  } else if (verb == "upnp-refuse") {
    // upnp-refuse ACTION CODE: the IGD fails every later ACTION with CODE (0: no more).
    std::string action;
    int code = -1;
    if (!box.igd) {
      j["error"] = "this NAT has no UPnP IGD";
    } else if (!(in >> action >> code) || code < 0 || code > 999) {
      j["error"] = "upnp-refuse needs an action and a UPnP error code (0: none)";
    } else {
      box.igd->refuse(action, code);
      j["refused"] = action;
      j["code"] = code;
      std::cout << "event upnp-refuse " << action << " " << code << std::endl;
    }
  } else if (verb == "upnp") {
    if (!box.igd) {
      j["error"] = "this NAT has no UPnP IGD";
    } else {
      j["calls"] = nlohmann::json::array();
      for (const auto& c : box.igd->calls()) j["calls"].push_back(call_json(c));
    }
  } else {
    j["error"] = "unknown command '" + verb +
                 "' (ping, stats, rebind, expire, blackout MS, filtering BEHAVIOUR, upnp, upnp-refuse)";
  }
  return j.dump() + "\n";
}

int ssdp_socket(std::uint32_t inside_address) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) die(fmt::format("SSDP socket: {}", std::strerror(errno)));
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(teredo::nat::Igd::kSsdpPort);
  addr.sin_addr.s_addr = htonl(INADDR_ANY);  // the group's datagrams carry the group as destination
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    die(fmt::format("SSDP bind: {}", std::strerror(errno)));
  }
  ip_mreq group{};
  inet_pton(AF_INET, teredo::nat::Igd::kSsdpGroup, &group.imr_multiaddr);
  group.imr_interface.s_addr = htonl(inside_address);
  if (::setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &group, sizeof group) != 0) {
    die(fmt::format("SSDP group: {}", std::strerror(errno)));
  }
  return fd;
}

int http_listener(std::uint32_t inside_address, std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) die(fmt::format("HTTP socket: {}", std::strerror(errno)));
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(inside_address);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, 16) != 0) {
    die(fmt::format("HTTP listen on port {}: {}", port, std::strerror(errno)));
  }
  return fd;
}

void answer_ssdp(Box& box, int fd) {
  for (;;) {
    char buffer[2048];
    sockaddr_in from{};
    socklen_t from_length = sizeof from;
    const ssize_t n = ::recvfrom(fd, buffer, sizeof buffer, 0, reinterpret_cast<sockaddr*>(&from), &from_length);
    if (n <= 0) return;
    const auto answer = box.igd->ssdp(std::string_view(buffer, static_cast<std::size_t>(n)));
    if (answer) {
      (void)!::sendto(fd, answer->data(), answer->size(), 0, reinterpret_cast<sockaddr*>(&from), from_length);
    }
  }
}

// One request per connection (clients send "Connection: close"); a client
// gets a second to send it, so a silent one holds the box up that long at most.
void answer_http(Box& box, int listener) {
  for (;;) {
    sockaddr_in from{};
    socklen_t from_length = sizeof from;
    const int client = ::accept4(listener, reinterpret_cast<sockaddr*>(&from), &from_length, SOCK_CLOEXEC);
    if (client < 0) return;
    timeval tv{1, 0};
    ::setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    std::string request;
    std::optional<std::size_t> length;
    char buffer[4096];
    while (!(length = teredo::nat::Igd::request_length(request))) {
      const ssize_t n = ::read(client, buffer, sizeof buffer);
      if (n <= 0) break;
      request.append(buffer, static_cast<std::size_t>(n));
    }
    if (length && *length > 0) {
      const std::size_t before = box.igd->calls().size();
      const std::string response = box.igd->http(now(), ntohl(from.sin_addr.s_addr), std::string_view(request).substr(0, *length));
      for (std::size_t i = before; i < box.igd->calls().size(); ++i) {
        std::cout << "upnp " << call_json(box.igd->calls()[i]).dump() << std::endl;
      }
      (void)!::write(client, response.data(), response.size());
    }
    ::close(client);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3 || std::string(argv[1]) != "--config") die("usage: teredo-nat --config FILE");
  std::ifstream in(argv[2]);
  if (!in) die(std::string("cannot read ") + argv[2]);
  std::stringstream text;
  text << in.rdbuf();
  teredo::netns::NatBoxConfig config;
  try {
    config = teredo::netns::nat_box_config_from_json(text.str());
  } catch (const std::exception& e) {
    die(e.what());
  }

  teredo::nat::EngineConfig engine_config{config.nat, ipv4(config.inside_address), ipv4(config.outside_address),
                                          config.seed};
  Box box{NatEngine(engine_config)};
  box.raw = ::socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
  if (box.raw < 0) die(fmt::format("raw socket: {}", std::strerror(errno)));
  const int inside = packet_socket(config.nat.inside);
  const int outside = packet_socket(config.nat.outside);
  int ssdp = -1, http = -1;
  if (config.nat.upnp) {
    teredo::nat::IgdConfig igd_config;
    igd_config.inside_address = ipv4(config.inside_address);
    igd_config.outside_address = ipv4(config.outside_address);
    box.igd = std::make_unique<teredo::nat::Igd>(igd_config, box.engine);
    ssdp = ssdp_socket(igd_config.inside_address);
    http = http_listener(igd_config.inside_address, igd_config.http_port);
  }

  const int control = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (config.control_socket.empty() || config.control_socket.size() >= sizeof addr.sun_path) {
    die("bad control socket path");
  }
  std::memcpy(addr.sun_path, config.control_socket.c_str(), config.control_socket.size() + 1);
  ::unlink(config.control_socket.c_str());
  if (::bind(control, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(control, 16) != 0) {
    die(fmt::format("control socket {}: {}", config.control_socket, std::strerror(errno)));
  }

  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigprocmask(SIG_BLOCK, &signals, nullptr);
  const int sigfd = ::signalfd(-1, &signals, SFD_CLOEXEC);
  const int timer = ::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
  const itimerspec tick{{0, 50'000'000}, {0, 50'000'000}};  // 50 ms: timeline and expiry
  ::timerfd_settime(timer, 0, &tick, nullptr);

  const int ep = ::epoll_create1(EPOLL_CLOEXEC);
  for (int fd : {inside, outside, control, sigfd, timer, ssdp, http}) {
    if (fd < 0) continue;
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    ::epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
  }
  const Time start = now();
  std::size_t next_event = 0;
  auto timeline = config.nat.timeline;
  std::sort(timeline.begin(), timeline.end(), [](const auto& a, const auto& b) { return a.at_ms < b.at_ms; });
  std::cout << fmt::format("teredo-nat ready: profile={} inside={} outside={} ({}) hairpinning={} lifetime_ms={} upnp={}",
                           config.nat.profile, config.nat.inside, config.nat.outside, config.outside_address,
                           config.nat.hairpinning, config.nat.mapping_lifetime_ms, config.nat.upnp)
            << std::endl;

  for (;;) {
    epoll_event events[8];
    const int n = ::epoll_wait(ep, events, 8, -1);
    if (n < 0 && errno == EINTR) continue;
    for (int i = 0; i < n; ++i) {
      const int fd = events[i].data.fd;
      if (fd == inside) {
        box.drain(inside, true);
      } else if (fd == outside) {
        box.drain(outside, false);
      } else if (fd == ssdp) {
        answer_ssdp(box, ssdp);
      } else if (fd == http) {
        answer_http(box, http);
      } else if (fd == control) {
        for (;;) {
          const int client = ::accept4(control, nullptr, nullptr, SOCK_CLOEXEC);
          if (client < 0) break;
          timeval tv{1, 0};
          ::setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
          std::string line;
          char c = 0;
          while (line.size() < 256 && ::read(client, &c, 1) == 1 && c != '\n') line.push_back(c);
          const std::string answer = handle_command(box, line);
          (void)!::write(client, answer.data(), answer.size());
          ::close(client);
        }
      } else if (fd == timer) {
        std::uint64_t expirations = 0;
        (void)!::read(timer, &expirations, sizeof expirations);
        const Time t = now();
        while (next_event < timeline.size() &&
               t - start >= std::chrono::milliseconds(timeline[next_event].at_ms)) {
          const auto& e = timeline[next_event++];
          const std::string command =
              e.event == "blackout" ? fmt::format("blackout {}", e.duration_ms) : e.event;
          (void)handle_command(box, command);
        }
        box.engine.expire_idle(t);
      } else if (fd == sigfd) {
        std::cout << "teredo-nat stopping" << std::endl;
        ::unlink(config.control_socket.c_str());
        return 0;
      }
    }
  }
}
