#include "fuzz/generator.hpp"

#include <algorithm>
#include <array>
#include <optional>

namespace teredo::conformance::fuzz {

using namespace teredo::wire;

namespace {

// A Teredo UDP payload as fields, before it becomes bytes.
struct Icmp {
  std::uint8_t type = 0, code = 0;
  ByteVector body;  // after type, code and checksum
  bool corrupt_checksum = false;
};
struct Model {
  std::optional<ByteVector> auth_client_id, auth_value;  // both set or neither: an authentication encapsulation
  bool sign = false;  // the value is computed over the built datagram (GeneratorContext::signing)
  Nonce nonce{};
  std::uint8_t confirmation = 0;
  std::optional<OriginIndication> origin;
  Ipv6Header ip;
  std::optional<Icmp> icmp;  // else `raw` is the IPv6 payload
  ByteVector raw;
  ByteVector trailer;
  [[nodiscard]] bool has_auth() const { return auth_client_id.has_value(); }
};

// The payload as its encapsulations, before they are put in order.
struct Segments {
  ByteVector auth, origin, ipv6, trailer;
  bool origin_first = false;
  bool duplicate_auth = false, duplicate_origin = false;
};

Ipv6Address address(const char* text) { return *parse_ipv6(text); }

// The field mutations a datagram may get (names recorded in finding.json).
constexpr std::array<const char*, 28> kFieldMutations = {
    "auth.add",           "auth.remove",         "auth.client_id",      "auth.value",
    "auth.confirmation",  "auth.id_len",         "auth.au_len",         "origin.add",
    "origin.remove",      "origin.value",        "encapsulation.order", "encapsulation.duplicate",
    "ipv6.version",       "ipv6.traffic_class",  "ipv6.flow_label",     "ipv6.payload_length",
    "ipv6.next_header",   "ipv6.hop_limit",      "ipv6.source",         "ipv6.destination",
    "icmpv6.type",        "icmpv6.code",         "icmpv6.checksum",     "nd.option",
    "nd.option_length",   "trailer.add",         "truncate",            "oversize",
};
constexpr std::array<const char*, 4> kByteMutations = {"bytes.flip", "bytes.set", "bytes.insert", "bytes.delete"};

}  // namespace

const char* to_string(Template t) {
  switch (t) {
    case Template::rs_plain: return "rs_plain";
    case Template::rs_auth: return "rs_auth";
    case Template::rs_auth_origin: return "rs_auth_origin";
    case Template::rs_origin: return "rs_origin";
    case Template::bubble: return "bubble";
    case Template::echo_peer: return "echo_peer";
    case Template::echo_server: return "echo_server";
    case Template::data_native: return "data_native";
    case Template::ra: return "ra";
    case Template::ra_no_origin: return "ra_no_origin";
    case Template::bubble_to_client: return "bubble_to_client";
    case Template::echo_to_client: return "echo_to_client";
    case Template::data_from_relay: return "data_from_relay";
    case Template::bubble_via_server: return "bubble_via_server";
    case Template::discovery_bubble: return "discovery_bubble";
  }
  return "unknown";
}

DatagramGenerator::DatagramGenerator(std::uint64_t seed, GeneratorContext context, Audience audience)
    : random_(seed), context_(context), audience_(audience) {}

std::uint64_t DatagramGenerator::below(std::uint64_t n) { return random_() % n; }
bool DatagramGenerator::chance(unsigned one_in) { return below(one_in) == 0; }

// The draws in the order the server's sequence always made them (validity,
// then the template): a seed gives a server the datagrams it always did.
GeneratedDatagram DatagramGenerator::next() {
  const bool mutate = !chance(valid_one_in_);
  return build(pick(), mutate);
}
GeneratedDatagram DatagramGenerator::next_valid() { return build(pick(), false); }

Template DatagramGenerator::pick() {
  switch (audience_) {
    case Audience::server: return static_cast<Template>(below(8));
    case Audience::client_qualifying: return below(4) == 0 ? Template::ra_no_origin : Template::ra;
    case Audience::client_qualified: {
      static constexpr Template kQualified[] = {Template::bubble_to_client, Template::echo_to_client,
                                                Template::data_from_relay, Template::bubble_via_server,
                                                Template::discovery_bubble};
      return kQualified[below(discovery_ ? 5 : 4)];
    }
  }
  return Template::rs_plain;
}

GeneratedDatagram DatagramGenerator::build(Template base, bool mutate) {
  GeneratedDatagram out;
  out.base = base;
  const auto byte = [this] { return static_cast<std::uint8_t>(below(256)); };
  const auto bytes = [&](std::size_t n) {
    ByteVector v(n);
    for (auto& b : v) b = byte();
    return v;
  };
  const auto nonce = [&] {
    Nonce n{};
    for (auto& b : n) b = byte();
    return n;
  };
  // Interesting values first: boundaries parsers get wrong.
  const auto interesting8 = [&]() -> std::uint8_t {
    static constexpr std::uint8_t kValues[] = {0, 1, 2, 7, 8, 9, 13, 0x3f, 0x40, 0x7f, 0x80, 0xfe, 0xff};
    return chance(2) ? kValues[below(std::size(kValues))] : byte();
  };
  const auto interesting16 = [&](std::uint16_t around) -> std::uint16_t {
    switch (below(6)) {
      case 0: return 0;
      case 1: return 0xffff;
      case 2: return static_cast<std::uint16_t>(around + 1 + below(16));
      case 3: return static_cast<std::uint16_t>(around > 0 ? around - 1 - below(std::min<std::uint64_t>(around, 16)) : 1);
      case 4: return static_cast<std::uint16_t>(0x8000 + below(0x8000));
      default: return static_cast<std::uint16_t>(below(0x10000));
    }
  };

  // 1. The valid datagram.
  Model m;
  const auto rs = [&](bool auth, bool origin) {
    m.ip.source = address(chance(2) ? "fe80::8000:ffff:ffff:fffd" : "fe80::ffff:ffff:fffd");
    m.ip.destination = address("ff02::2");
    m.ip.next_header = kNextHeaderIcmpv6;
    m.ip.hop_limit = 255;
    m.icmp = Icmp{kIcmpv6RouterSolicitation, 0, ByteVector(4, 0), false};
    if (auth) {
      m.auth_client_id = context_.signing ? context_.signing->client_id : ByteVector{};
      m.auth_value = ByteVector{};
      m.nonce = nonce();
      m.sign = context_.signing.has_value();
    }
    if (origin) m.origin = OriginIndication{context_.client_port, context_.client_ipv4};
  };
  const auto echo = [&](const Ipv6Address& to, const Ipv6Address& from) {
    m.ip.source = from;
    m.ip.destination = to;
    m.ip.next_header = kNextHeaderIcmpv6;
    m.ip.hop_limit = 64;
    ByteVector body = {0, static_cast<std::uint8_t>(below(256)), 0, 1};  // identifier, sequence
    const ByteVector data = bytes(8 + below(24));
    body.insert(body.end(), data.begin(), data.end());
    m.icmp = Icmp{kIcmpv6EchoRequest, 0, std::move(body), false};
  };
  switch (out.base) {
    case Template::rs_plain: rs(false, false); break;
    case Template::rs_auth: rs(true, false); break;
    case Template::rs_auth_origin: rs(true, true); break;
    case Template::rs_origin: rs(false, true); break;
    case Template::bubble:
      m.ip.source = context_.client_teredo;
      m.ip.destination = context_.peer_teredo;
      m.ip.next_header = kNextHeaderNone;
      m.ip.hop_limit = 255;
      break;
    case Template::echo_peer: echo(context_.peer_teredo, context_.client_teredo); break;
    case Template::echo_server: echo(context_.server_link_local, context_.client_teredo); break;
    case Template::data_native: echo(context_.native_host, context_.client_teredo); break;
    case Template::ra:
    case Template::ra_no_origin: {
      // As the played server of the client cases answers (client_driver
      // ra_datagram): one Prefix Information option (the server's /64, A
      // flag), an MTU option of 1280, retransmission timer 2000 ms.
      m.ip.source = context_.server_link_local;
      m.ip.destination = context_.iut_link_local;
      m.ip.next_header = kNextHeaderIcmpv6;
      m.ip.hop_limit = 255;
      ByteVector body = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x07, 0xd0};
      PrefixInformation prefix;
      prefix.flags = 0x40;
      prefix.prefix = teredo_prefix(context_.server);
      append_prefix_information_option(body, prefix);
      append_mtu_option(body, 1280);
      m.icmp = Icmp{kIcmpv6RouterAdvertisement, 0, std::move(body), false};
      m.auth_client_id = ByteVector{};
      m.auth_value = ByteVector{};
      m.nonce = nonce();  // the rig puts the RS's in its place
      if (out.base == Template::ra) m.origin = OriginIndication{context_.iut_mapped_port, context_.iut_mapped_ipv4};
      break;
    }
    case Template::bubble_to_client:
    case Template::bubble_via_server:
      m.ip.source = context_.peer_teredo;
      m.ip.destination = context_.iut_teredo;
      m.ip.next_header = kNextHeaderNone;
      m.ip.hop_limit = 255;
      // §5.3.1: the server forwards it with the origin indication of the
      // peer's endpoint (the one its Teredo address embeds).
      if (out.base == Template::bubble_via_server) {
        if (const auto t = parse_teredo(context_.peer_teredo)) {
          m.origin = OriginIndication{t->mapped_port, t->mapped_ipv4};
        }
      }
      break;
    case Template::echo_to_client: echo(context_.iut_teredo, context_.peer_teredo); break;
    case Template::data_from_relay: echo(context_.iut_teredo, context_.native_host); break;
    case Template::discovery_bubble:
      m.ip.source = context_.local_peer_teredo;
      m.ip.destination = address("ff02::1");
      m.ip.next_header = kNextHeaderNone;
      m.ip.hop_limit = 1;
      break;
  }

  // 2. Field mutations on the model, on the encoded segments, on the whole.
  std::vector<const char*> chosen;
  if (mutate) {
    const std::uint64_t count = 1 + below(3);
    for (std::uint64_t i = 0; i < count; ++i) chosen.push_back(kFieldMutations[below(kFieldMutations.size())]);
  }
  const auto random_address = [&]() -> Ipv6Address {
    switch (below(7)) {
      case 0: return address("::");
      case 1: return address("::1");
      case 2: return address("ff02::1");
      case 3: {  // a Teredo address embedding a non-global IPv4 (RFC 4380 §5.3.1: must not be forwarded to)
        TeredoAddress t{context_.server, 0, static_cast<std::uint16_t>(below(0x10000)), context_.non_global};
        return t.to_ipv6();
      }
      case 4: {
        TeredoAddress t{context_.server, static_cast<std::uint16_t>(below(0x10000)),
                        static_cast<std::uint16_t>(below(0x10000)), Ipv4Address{static_cast<std::uint32_t>(random_())}};
        return t.to_ipv6();
      }
      case 5: return context_.server_link_local;
      default: {
        Ipv6Address a;
        for (auto& b : a.bytes) b = byte();
        return a;
      }
    }
  };
  for (const char* name : chosen) {
    const std::string_view f = name;
    if (f == "auth.add" || ((f == "auth.client_id" || f == "auth.value" || f == "auth.confirmation" ||
                             f == "auth.id_len" || f == "auth.au_len") && !m.has_auth())) {
      m.auth_client_id = ByteVector{};
      m.auth_value = ByteVector{};
      m.nonce = nonce();
    }
    if (f == "origin.add" || (f == "origin.value" && !m.origin)) {
      m.origin = OriginIndication{context_.client_port, context_.client_ipv4};
    }
    if (f == "auth.add" || f == "auth.remove" || f == "auth.client_id" || f == "auth.value") m.sign = false;
    if (f == "auth.remove") m.auth_client_id.reset(), m.auth_value.reset();
    if (f == "origin.remove") m.origin.reset();
    if (f == "auth.client_id") m.auth_client_id = bytes(below(2) ? below(16) : below(256));
    if (f == "auth.value") m.auth_value = bytes(below(2) ? below(32) : below(256));
    if (f == "auth.confirmation") m.confirmation = interesting8();
    if (f == "origin.value") {
      m.origin->port = interesting16(context_.client_port);
      m.origin->address = chance(2) ? context_.non_global : Ipv4Address{static_cast<std::uint32_t>(random_())};
    }
    if (f == "ipv6.traffic_class") m.ip.traffic_class = interesting8();
    if (f == "ipv6.flow_label") m.ip.flow_label = static_cast<std::uint32_t>(below(1u << 20));
    if (f == "ipv6.next_header") {
      static constexpr std::uint8_t kHeaders[] = {0, 6, 17, 43, 44, 50, 58, 59, 60, 255};
      m.ip.next_header = chance(2) ? kHeaders[below(std::size(kHeaders))] : byte();
    }
    if (f == "ipv6.hop_limit") m.ip.hop_limit = interesting8();
    if (f == "ipv6.source") m.ip.source = random_address();
    if (f == "ipv6.destination") m.ip.destination = random_address();
    if (f == "icmpv6.type" || f == "icmpv6.code" || f == "icmpv6.checksum" || f == "nd.option" ||
        f == "nd.option_length") {
      if (!m.icmp) {
        m.icmp = Icmp{kIcmpv6RouterSolicitation, 0, ByteVector(4, 0), false};
        m.ip.next_header = kNextHeaderIcmpv6;
      }
    }
    if (f == "icmpv6.type") {
      static constexpr std::uint8_t kTypes[] = {1, 2, 3, 4, 128, 129, 133, 134, 135, 136, 137, 0, 255};
      m.icmp->type = chance(2) ? kTypes[below(std::size(kTypes))] : byte();
    }
    if (f == "icmpv6.code") m.icmp->code = interesting8();
    if (f == "icmpv6.checksum") m.icmp->corrupt_checksum = true;
    if (f == "nd.option") {  // a well-formed option of any type (RS options start after 4 reserved bytes)
      const std::uint8_t length = static_cast<std::uint8_t>(1 + below(4));
      ByteVector option = bytes(8u * length);
      option[0] = interesting8();
      option[1] = length;
      m.icmp->body.insert(m.icmp->body.end(), option.begin(), option.end());
    }
    if (f == "nd.option_length") {  // zero, or running past the message
      ByteVector option = bytes(8);
      option[0] = static_cast<std::uint8_t>(1 + below(5));
      option[1] = chance(2) ? 0 : static_cast<std::uint8_t>(2 + below(254));
      m.icmp->body.insert(m.icmp->body.end(), option.begin(), option.end());
    }
    if (f == "trailer.add") {  // RFC 6081 §4 trailers: type, length, value; sometimes malformed
      ByteVector trailer = {static_cast<std::uint8_t>(chance(2) ? 0x01 : byte()),
                            static_cast<std::uint8_t>(below(2) ? 4 : below(32))};
      const ByteVector value = bytes(below(2) ? 4 : below(16));
      trailer.insert(trailer.end(), value.begin(), value.end());
      m.trailer.insert(m.trailer.end(), trailer.begin(), trailer.end());
    }
  }

  // Encode with the wire builders.
  Segments s;
  if (m.has_auth()) {
    const AuthenticationFields fields{*m.auth_client_id, *m.auth_value, m.nonce, m.confirmation};
    (void)append_authentication(s.auth, fields);  // lengths are at most 255 by construction
  }
  if (m.origin) append_origin_indication(s.origin, *m.origin);
  ByteVector l4;
  if (m.icmp) {
    l4 = {m.icmp->type, m.icmp->code, 0, 0};
    l4.insert(l4.end(), m.icmp->body.begin(), m.icmp->body.end());
    std::uint16_t checksum = icmpv6_checksum(m.ip.source, m.ip.destination, l4);
    if (m.icmp->corrupt_checksum) checksum = static_cast<std::uint16_t>(checksum ^ (1 + below(0xffff)));
    l4[2] = static_cast<std::uint8_t>(checksum >> 8);
    l4[3] = static_cast<std::uint8_t>(checksum);
  } else {
    l4 = m.raw;
  }
  append_ipv6_packet(s.ipv6, m.ip, l4);
  s.trailer = m.trailer;
  for (const char* name : chosen) {
    const std::string_view f = name;
    if (f == "auth.id_len" && s.auth.size() > 2) s.auth[2] = interesting8();
    if (f == "auth.au_len" && s.auth.size() > 3) s.auth[3] = interesting8();
    if (f == "encapsulation.order") s.origin_first = true;
    if (f == "encapsulation.duplicate") {
      if (!s.auth.empty() && (s.origin.empty() || chance(2))) {
        s.duplicate_auth = true;
      } else {
        if (s.origin.empty()) append_origin_indication(s.origin, OriginIndication{context_.client_port, context_.client_ipv4});
        s.duplicate_origin = true;
      }
    }
    if (f == "ipv6.version") s.ipv6[0] = static_cast<std::uint8_t>((below(16) << 4) | (s.ipv6[0] & 0x0f));
    if (f == "ipv6.payload_length") {
      const auto actual = static_cast<std::uint16_t>(s.ipv6.size() - kIpv6HeaderSize);
      const std::uint16_t length = interesting16(actual);
      s.ipv6[4] = static_cast<std::uint8_t>(length >> 8);
      s.ipv6[5] = static_cast<std::uint8_t>(length);
    }
  }
  if (m.sign && m.has_auth()) {
    // The value over what is sent (RFC 4380 §5.2.2: nonce, confirmation,
    // origin indication, IPv6 packet), then the length bytes a mutation set.
    const auto value = compute_authentication_value(context_.signing->algorithm, context_.signing->secret, m.nonce,
                                                    m.confirmation, s.origin, s.ipv6);
    if (value) {
      const std::uint8_t id_len = s.auth[2], au_len = s.auth[3];
      const bool id_len_set = id_len != m.auth_client_id->size(), au_len_set = au_len != m.auth_value->size();
      const AuthenticationFields fields{*m.auth_client_id, value->view(), m.nonce, m.confirmation};
      s.auth.clear();
      (void)append_authentication(s.auth, fields);
      if (id_len_set) s.auth[2] = id_len;
      if (au_len_set) s.auth[3] = au_len;
    }
  }
  ByteVector& p = out.payload;
  const auto append = [&p](const ByteVector& v) { p.insert(p.end(), v.begin(), v.end()); };
  if (s.origin_first) {
    append(s.origin);
    append(s.auth);
  } else {
    append(s.auth);
    if (s.duplicate_auth) append(s.auth);
    append(s.origin);
  }
  if (s.duplicate_origin) append(s.origin);
  append(s.ipv6);
  append(s.trailer);
  for (const char* name : chosen) {
    const std::string_view f = name;
    if (f == "truncate" && !p.empty()) p.resize(below(p.size()));
    if (f == "oversize") {  // past the 1280-byte Teredo MTU, up to max_payload_
      const std::size_t limit = std::max<std::size_t>(max_payload_, 1281);
      const std::size_t target = 1281 + below(limit - 1280);
      if (target > p.size()) {
        const ByteVector extra = bytes(target - p.size());
        p.insert(p.end(), extra.begin(), extra.end());
      }
    }
  }
  for (const char* c : chosen) out.mutations.emplace_back(c);
  // 3. Byte-level mutation, on one mutated datagram in four.
  if (mutate && chance(4)) {
    const std::uint64_t count = 1 + below(4);
    for (std::uint64_t i = 0; i < count; ++i) {
      const std::string_view f = kByteMutations[below(kByteMutations.size())];
      out.mutations.emplace_back(f);
      if (f == "bytes.insert") {
        p.insert(p.begin() + static_cast<std::ptrdiff_t>(below(p.size() + 1)), interesting8());
        continue;
      }
      if (p.empty()) continue;
      const std::size_t at = below(p.size());
      if (f == "bytes.flip") p[at] = static_cast<std::uint8_t>(p[at] ^ (1u << below(8)));
      if (f == "bytes.set") p[at] = interesting8();
      if (f == "bytes.delete") p.erase(p.begin() + static_cast<std::ptrdiff_t>(at));
    }
  }
  return out;
}

namespace {

// RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m') for each 16-bit word replaced.
void adjust_checksum(ByteVector& p, std::size_t checksum_at, Bytes before, Bytes after) {
  std::uint32_t sum = static_cast<std::uint16_t>(~((p[checksum_at] << 8) | p[checksum_at + 1]));
  for (std::size_t i = 0; i + 1 < before.size(); i += 2) {
    sum += static_cast<std::uint16_t>(~((before[i] << 8) | before[i + 1]));
    sum += static_cast<std::uint32_t>((after[i] << 8) | after[i + 1]);
  }
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  const auto checksum = static_cast<std::uint16_t>(~sum);
  p[checksum_at] = static_cast<std::uint8_t>(checksum >> 8);
  p[checksum_at + 1] = static_cast<std::uint8_t>(checksum);
}

}  // namespace

void rebind_for_client(ByteVector& p, const ClientBinding& from, const ClientBinding& to) noexcept {
  std::size_t at = 0;
  // The encapsulations, as many as a mutation put there (at most four).
  for (int i = 0; i < 4 && p.size() >= at + 2 && p[at] == 0; ++i) {
    if (p[at + 1] == 1 && p.size() >= at + 4) {  // authentication
      const std::size_t nonce_at = at + 4 + p[at + 2] + p[at + 3];
      if (p.size() < nonce_at + kNonceSize + 1) return;
      std::copy(to.nonce.begin(), to.nonce.end(), p.begin() + static_cast<std::ptrdiff_t>(nonce_at));
      at = nonce_at + kNonceSize + 1;
    } else if (p[at + 1] == 0 && p.size() >= at + kOriginIndicationSize) {  // origin indication
      ByteVector was, now;
      append_origin_indication(was, OriginIndication{from.mapped_port, from.mapped_ipv4});
      append_origin_indication(now, OriginIndication{to.mapped_port, to.mapped_ipv4});
      if (std::equal(was.begin(), was.end(), p.begin() + static_cast<std::ptrdiff_t>(at))) {
        std::copy(now.begin(), now.end(), p.begin() + static_cast<std::ptrdiff_t>(at));
      }
      at += kOriginIndicationSize;
    } else {
      break;
    }
  }
  if (p.size() < at + kIpv6HeaderSize) return;
  // The upper-layer checksum, when the IPv6 packet's first header is
  // ICMPv6 or UDP and is there.
  std::optional<std::size_t> checksum_at;
  const std::size_t l4 = at + kIpv6HeaderSize;
  if (p[at + 6] == kNextHeaderIcmpv6 && p.size() >= l4 + 4) checksum_at = l4 + 2;
  if (p[at + 6] == kNextHeaderUdp && p.size() >= l4 + 8) checksum_at = l4 + 6;
  for (const std::size_t field : {at + 8, at + 24}) {
    for (const auto& [was, now] : {std::pair{&from.teredo, &to.teredo}, std::pair{&from.link_local, &to.link_local}}) {
      if (*was == *now) break;
      if (!std::equal(was->bytes.begin(), was->bytes.end(), p.begin() + static_cast<std::ptrdiff_t>(field))) continue;
      std::copy(now->bytes.begin(), now->bytes.end(), p.begin() + static_cast<std::ptrdiff_t>(field));
      if (checksum_at) adjust_checksum(p, *checksum_at, Bytes(was->bytes.data(), 16), Bytes(now->bytes.data(), 16));
      break;
    }
  }
}

std::optional<Nonce> nonce_of(Bytes payload) noexcept {
  std::size_t at = 0;
  if (payload.size() >= kOriginIndicationSize && payload[0] == 0 && payload[1] == 0) at = kOriginIndicationSize;
  if (payload.size() < at + 4 || payload[at] != 0 || payload[at + 1] != 1) return std::nullopt;
  const std::size_t nonce_at = at + 4 + payload[at + 2] + payload[at + 3];
  if (payload.size() < nonce_at + kNonceSize + 1) return std::nullopt;
  Nonce n{};
  std::copy_n(payload.begin() + static_cast<std::ptrdiff_t>(nonce_at), kNonceSize, n.begin());
  return n;
}

}  // namespace teredo::conformance::fuzz
