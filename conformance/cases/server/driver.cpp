#include "cases/server/driver.hpp"

#include <fmt/format.h>

#include <stdexcept>

namespace teredo::conformance::server {

using namespace teredo::wire;
using kit::ms;

Ipv6Address server_link_local(const std::string& server) { return kit::server_link_local(server); }

ByteVector rs_packet(const RsOptions& o) {
  const Ipv6Address source = o.source ? *o.source
                                      : ipv6(o.cone ? "fe80::8000:ffff:ffff:fffd" : "fe80::ffff:ffff:fffd");
  const Ipv6Address destination = o.destination ? *o.destination : ipv6("ff02::2");
  ByteVector body(4, 0);  // reserved
  body.insert(body.end(), o.options.begin(), o.options.end());
  ByteVector packet = build_icmpv6_packet(source, destination, o.hop_limit, kIcmpv6RouterSolicitation, o.code, body);
  if (o.corrupt_checksum) packet[kIpv6HeaderSize + 2] ^= 0x5A;
  return packet;
}

ByteVector rs_datagram(const RsOptions& o) {
  const ByteVector packet = rs_packet(o);
  ByteVector out;
  std::optional<AuthenticationFields> auth;
  if (o.authentication) {
    auth = AuthenticationFields{.client_id = o.client_id, .authentication_value = o.auth_value, .nonce = o.nonce,
                                .confirmation = o.confirmation};
  }
  if (!append_datagram(out, auth, std::nullopt, packet, o.trailer)) {
    throw std::runtime_error("rs_datagram: authentication fields too long");
  }
  return out;
}

ByteVector signed_rs(RsOptions o, Bytes secret, MacAlgorithm algorithm) {
  o.authentication = true;
  const ByteVector packet = rs_packet(o);
  const auto value = compute_authentication_value(algorithm, secret, o.nonce, o.confirmation, {}, packet);
  if (!value) throw std::runtime_error("signed_rs: OpenSSL could not compute the MAC");
  o.auth_value.assign(value->view().begin(), value->view().end());
  return rs_datagram(o);
}

std::optional<Reply> as_reply(const CapturedFrame& frame, LinkType link) {
  return Reply::parse(frame, link, "driver");
}

std::uint64_t mark(CaseRun& run) { return kit::mark(run, "driver"); }

std::uint64_t send_to_server(CaseRun& run, int socket, Bytes payload, const std::string& to) {
  const std::uint64_t before = mark(run);
  run.send_udp(socket, to, kTeredoPort, payload);
  return before;
}

FrameMatch udp_to(const Capture& capture, const std::string& address, std::uint16_t port) {
  return kit::udp_to(capture.link_type(), address, port);
}

FrameMatch carrying(const Capture& capture, const Ipv6Address& source, const Ipv6Address& destination) {
  const LinkType link = capture.link_type();
  const Ipv4Address primary = ipv4(kPrimary), secondary = ipv4(kSecondary);
  return [=](const CapturedFrame& f) {
    if (const auto c = find_udp_carrier(link, f.data); c && !c->ipv6) {
      if (c->source4 != primary && c->source4 != secondary) return false;
      const auto inner = inner_addresses(c->payload);
      return inner && inner->first == source && inner->second == destination;
    }
    if (const auto n = native_ipv6(link, f.data)) {
      return n->header.source == source && n->header.destination == destination;
    }
    return false;
  };
}

std::optional<Reply> next_reply(CaseRun& run, const std::string& driver_address, std::uint16_t driver_port,
                                std::uint64_t after, std::chrono::milliseconds timeout) {
  Capture& capture = run.capture("driver");
  const auto frame = capture.wait_for(udp_to(capture, driver_address, driver_port), timeout, after);
  if (!frame) return std::nullopt;
  return as_reply(*frame, capture.link_type());
}

Peer make_peer(CaseRun& run, const std::string& address, std::uint16_t port, std::uint16_t flags,
               const std::string& host) {
  return kit::make_peer(run, host, address, port, kPrimary, flags);
}

Sent send_from(CaseRun& run, const Peer& from, Bytes payload, const std::string& to, std::uint16_t to_port) {
  return kit::send_from(run, "driver", from, payload, to, to_port);
}

std::optional<Reply> wait_forward(CaseRun& run, const Peer& to, const Ipv6Address& source,
                                  const Ipv6Address& destination, std::uint64_t after,
                                  std::chrono::milliseconds timeout) {
  Capture& capture = run.capture("driver");
  const FrameMatch to_peer = udp_to(capture, to.address, to.port);
  const FrameMatch carried = carrying(capture, source, destination);
  const auto frame =
      capture.wait_for([&](const CapturedFrame& f) { return to_peer(f) && carried(f); }, timeout, after);
  if (!frame) return std::nullopt;
  return as_reply(*frame, capture.link_type());
}

std::optional<ParsedRa> parse_ra(const Reply& reply) {
  if (!reply.datagram) return std::nullopt;
  auto icmp = parse_icmpv6(reply.datagram->ipv6, ChecksumPolicy::ignore);
  if (!icmp || icmp->type != kIcmpv6RouterAdvertisement) return std::nullopt;
  auto ra = parse_router_advertisement(*icmp);
  if (!ra) return std::nullopt;
  return ParsedRa{*icmp, *ra};
}

Exchange rs_exchange(CaseRun& run, const Peer& from, const RsOptions& options, const std::string& to) {
  RsOptions o = options;
  // Each RS gets a nonce of its own (one the case chose is kept), so that its
  // answer is found by content even when the server sends it somewhere other
  // than the RS's source (JUDGING.md 3): the case then judges where it went.
  if (o.authentication && o.nonce == RsOptions{}.nonce) {
    for (auto& b : o.nonce) b = static_cast<std::uint8_t>(run.random()());
  }
  Exchange e;
  e.sent = send_from(run, from, rs_datagram(o), to);
  Capture& capture = run.capture("driver");
  const LinkType link = capture.link_type();
  const FrameMatch at_source = udp_to(capture, from.address, from.port);
  const FrameMatch primary = kit::udp_from_with_nonce(link, kPrimary, o.nonce);
  const FrameMatch secondary = kit::udp_from_with_nonce(link, kSecondary, o.nonce);
  const bool by_nonce = o.authentication;
  const auto frame = capture.wait_for(
      [&](const CapturedFrame& f) { return at_source(f) || (by_nonce && (primary(f) || secondary(f))); },
      kAnswerTimeout, e.sent.mark);
  if (frame) e.reply = as_reply(*frame, link);
  return e;
}

Control control_rs(const std::string& address, const std::string& host) {
  return [address, host](CaseRun& run) -> std::optional<std::string> {
    const Peer c = make_peer(run, address, kControlPort, 0, host);
    const Exchange e = rs_exchange(run, c, RsOptions{});
    if (e.reply && parse_ra(*e.reply)) {
      run.info(fmt::format("control: a valid RS from {} (frame {}) was answered: {}", c.where(), e.sent.frame,
                           describe(*e.reply)),
               "control_answered");
      return std::nullopt;
    }
    return fmt::format("the server did not answer a valid control RS from {} (frame {}) within {} either",
                       c.where(), e.sent.frame, ms(kAnswerTimeout));
  };
}

void judge_unanswered_rs(CaseRun& run, const std::vector<std::string>& requirements, const Sent& sent,
                         const std::string& what, const Control& control) {
  constexpr const char* kValidRsAccepted = "R4380-5.3.1-05";
  const std::string text = fmt::format("{} (frame {})", what, sent.frame);
  const std::optional<std::string> control_failure = control(run);
  std::vector<kit::Judgement> out = {kit::unanswered_judgement(
      kValidRsAccepted, text, "the valid RS accepted: an RA answers it", frames_of({sent.frame}), control_failure,
      "valid_rs_discarded", kAnswerTimeout)};
  for (const auto& r : requirements) {
    if (r == kValidRsAccepted) continue;
    kit::Judgement j;
    j.requirement = r;
    j.outcome = kit::Outcome::inconclusive;
    j.observed = "no RA to judge: " + text + " got no answer within " + ms(kAnswerTimeout) +
                 (control_failure ? " (nor did a control RS)" : " (a control RS was answered: judged on R4380-5.3.1-05)");
    j.code = "no_ra_to_judge";
    out.push_back(std::move(j));
  }
  kit::record(run, out);
}

void judge_not_forwarded(CaseRun& run, const std::vector<std::string>& requirements, const Sent& sent,
                         const std::string& what, const std::string& expected, AssertionCode discard_code,
                         const Control& control) {
  kit::judge_unanswered(run, requirements, fmt::format("{} (frame {})", what, sent.frame), expected,
                        frames_of({sent.frame}), control, discard_code, kAnswerTimeout);
}

Control control_forward(const Peer& from, const Peer& to) {
  return [from, to](CaseRun& run) -> std::optional<std::string> {
    const ByteVector packet = bubble_packet(from.teredo, to.teredo);
    const Sent s = send_from(run, from, encapsulate(packet));
    const auto forwarded = wait_forward(run, to, from.teredo, to.teredo, s.mark);
    if (forwarded) {
      run.info(fmt::format("control: a valid bubble {} -> {} (frame {}) was forwarded: {}", to_string(from.teredo),
                           to_string(to.teredo), s.frame, describe(*forwarded)),
               "control_answered");
      return std::nullopt;
    }
    return fmt::format("the server did not forward a valid control bubble from {} to {} (frame {}) within {} either",
                       from.where(), to.where(), s.frame, ms(kAnswerTimeout));
  };
}

void judge_silence(CaseRun& run, const std::vector<std::string>& requirements, const std::vector<SilenceProbe>& probes,
                   const Control& control) {
  kit::judge_silence(run, requirements, std::vector<kit::Probe>(probes.begin(), probes.end()), control);
}

SilenceProbe probe_answer(CaseRun& run, const Peer& from, Bytes payload, std::string what, const std::string& to) {
  SilenceProbe p;
  p.stimulus = send_from(run, from, payload, to);
  p.sent = frames_of({p.stimulus.frame});
  p.after = p.stimulus.mark;
  p.what = fmt::format("{} sent from {} to {}:{} (frame {})", what, from.where(), to, kTeredoPort, p.stimulus.frame);
  p.reaction = udp_to(run.capture("driver"), from.address, from.port);
  p.expected = fmt::format("silently discarded: no datagram to {} within {}", from.where(), ms(kSilenceWindow));
  p.code = "probe_answered";
  return p;
}

SilenceProbe probe_carry(CaseRun& run, const Peer& from, Bytes payload, std::string what, const Ipv6Address& source,
                         const Ipv6Address& destination) {
  SilenceProbe p;
  p.stimulus = send_from(run, from, payload);
  p.sent = frames_of({p.stimulus.frame});
  p.after = p.stimulus.mark;
  p.what = fmt::format("{} sent from {} (frame {})", what, from.where(), p.stimulus.frame);
  p.reaction = carrying(run.capture("driver"), source, destination);
  p.expected = fmt::format("not forwarded: no datagram from the server and no native IPv6 packet carrying {} -> {} "
                           "within {}",
                           to_string(source), to_string(destination), ms(kSilenceWindow));
  p.code = "probe_forwarded";
  return p;
}

std::string describe_frame(const CapturedFrame& frame, LinkType link) { return kit::describe_frame(frame, link, "driver"); }

FrameRef frame_ref(std::uint64_t frame) { return kit::frame_ref(frame, "driver"); }

std::vector<FrameRef> frames_of(std::initializer_list<std::uint64_t> numbers) {
  return kit::frames_of("driver", numbers);
}

}  // namespace teredo::conformance::server
