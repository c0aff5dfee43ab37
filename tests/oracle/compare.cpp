#include "compare.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <optional>
#include <stdexcept>
#include <string_view>

#include "capture/pcap_file.hpp"
#include "decode/teredo_json.hpp"
#include "teredo/wire/wire.hpp"

namespace teredo::oracle {

using nlohmann::ordered_json;

std::string describe(const Mismatch& m) {
  return fmt::format("frame {} {}: ours {}, tshark {}", m.frame, m.field, m.ours, m.theirs);
}

namespace {

// --- normalisation --------------------------------------------------------

// Decimal or 0x-hex text (tshark prints BASE_HEX fields as "0x28f0").
std::optional<std::uint64_t> parse_number(std::string_view s) {
  int base = 10;
  if (s.starts_with("0x") || s.starts_with("0X")) {
    s.remove_prefix(2);
    base = 16;
  }
  if (s.empty()) return std::nullopt;
  std::uint64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
  if (ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
  return v;
}

std::string num(std::string_view s) {
  const auto v = parse_number(s);
  return v ? std::to_string(*v) : std::string(s);
}

// RFC 5952 text through our own printer, so both sides are spelled alike.
std::string ip6(std::string_view s) {
  const auto a = wire::parse_ipv6(s);
  return a ? wire::to_string(*a) : std::string(s);
}

// Lower-case hex without separators ("02:00:00:00:00:0a" -> "02000000000a").
std::string hex(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == ':' || c == ' ' || c == '.') continue;
    out.push_back(static_cast<char>(c >= 'A' && c <= 'F' ? c - 'A' + 'a' : c));
  }
  return out;
}

bool is_teredo_prefix(const wire::Ipv6Address& a) {
  return a.bytes[0] == 0x20 && a.bytes[1] == 0x01 && a.bytes[2] == 0x00 && a.bytes[3] == 0x00;
}

wire::Ipv6Address mask(wire::Ipv6Address a, unsigned length) {
  for (unsigned i = 0; i < 16; ++i) {
    const unsigned keep = length > i * 8 ? std::min(8u, length - i * 8) : 0u;
    a.bytes[i] &= static_cast<std::uint8_t>(0xFF00u >> keep);
  }
  return a;
}

// --- our JSON ---------------------------------------------------------------

const ordered_json* find(const ordered_json& j, std::initializer_list<const char*> path) {
  const ordered_json* at = &j;
  for (const char* key : path) {
    if (!at->is_object()) return nullptr;
    const auto it = at->find(key);
    if (it == at->end()) return nullptr;
    at = &*it;
  }
  return at;
}

std::string text(const ordered_json* j) {
  if (j == nullptr || j->is_null()) return kAbsent;
  if (j->is_string()) return j->get<std::string>();
  if (j->is_boolean()) return j->get<bool>() ? "1" : "0";
  if (j->is_number_unsigned()) return std::to_string(j->get<std::uint64_t>());
  if (j->is_number_integer()) return std::to_string(j->get<std::int64_t>());
  return j->dump();
}

// --- tshark's layers --------------------------------------------------------

class Tshark {
 public:
  explicit Tshark(const Layers& layers) : layers_(layers) {}
  [[nodiscard]] const std::string* get(const std::string& field, std::size_t index = 0) const {
    const auto it = layers_.find(field);
    if (it == layers_.end() || index >= it->second.size()) return nullptr;
    return &it->second[index];
  }
  [[nodiscard]] std::size_t count(const std::string& field) const {
    const auto it = layers_.find(field);
    return it == layers_.end() ? 0 : it->second.size();
  }
  [[nodiscard]] bool has(const std::string& field) const { return count(field) > 0; }
  [[nodiscard]] std::string str(const std::string& field, std::size_t index = 0) const {
    const std::string* v = get(field, index);
    return v ? *v : kAbsent;
  }
  [[nodiscard]] std::string number(const std::string& field, std::size_t index = 0) const {
    const std::string* v = get(field, index);
    return v ? num(*v) : kAbsent;
  }
  [[nodiscard]] std::optional<std::uint64_t> value(const std::string& field,
                                                   std::size_t index = 0) const {
    const std::string* v = get(field, index);
    return v ? parse_number(*v) : std::nullopt;
  }

 private:
  const Layers& layers_;
};

std::string presence(bool present) { return present ? "present" : kAbsent; }

class Recorder {
 public:
  // `partial`: our decoder stopped at an error, so what it did not reach is
  // absent from our JSON without being a claim that it is absent.
  Recorder(std::uint64_t frame, bool partial, FrameComparison& out)
      : frame_(frame), partial_(partial), out_(out) {}
  void check(const std::string& field, const std::string& ours, const std::string& theirs) {
    ++out_.fields;
    if (ours != theirs) out_.mismatches.push_back(Mismatch{frame_, field, ours, theirs});
  }
  // A layer or element that may be present on either side.
  void check_presence(const std::string& field, bool ours, bool theirs) {
    if (partial_ && !ours) return;
    check(field, presence(ours), presence(theirs));
  }
  [[nodiscard]] bool partial() const noexcept { return partial_; }

 private:
  std::uint64_t frame_;
  bool partial_;
  FrameComparison& out_;
};

// Where the layers of interest sit in tshark's arrays, from frame.protocols
// (e.g. "eth:ethertype:ip:udp:gtp:ip:udp:teredo:ipv6:icmpv6"). The carrier is
// the last IP and UDP layer before "teredo" (GTP puts two of each there, an
// IPv6 outer puts one "ipv6" there); the Teredo IPv6 header is the next ipv6.
struct Layout {
  bool teredo = false;
  bool carrier_ipv6 = false;
  std::size_t ip_before = 0, ipv6_before = 0, udp_before = 0, gtp_before = 0;
};

Layout layout_of(const std::string& protocols) {
  Layout l;
  std::string_view rest = protocols;
  while (!rest.empty()) {
    const std::size_t colon = rest.find(':');
    const std::string_view p = rest.substr(0, colon);
    rest = colon == std::string_view::npos ? std::string_view{} : rest.substr(colon + 1);
    if (p == "teredo") {
      l.teredo = true;
      break;
    }
    if (p == "ip") {
      ++l.ip_before;
      l.carrier_ipv6 = false;
    } else if (p == "ipv6") {
      ++l.ipv6_before;
      l.carrier_ipv6 = true;
    } else if (p == "udp") {
      ++l.udp_before;
    } else if (p == "gtp") {
      ++l.gtp_before;
    }
  }
  return l;
}

void compare_carrier(const ordered_json& ours, const Tshark& t, const Layout& l, Recorder& r) {
  const ordered_json* c = find(ours, {"carrier"});
  const std::string ip = l.carrier_ipv6 ? "ipv6" : "ip";
  const std::size_t ci = (l.carrier_ipv6 ? l.ipv6_before : l.ip_before) - 1;
  const auto addr = [&](const char* key) {
    const std::string v = text(c ? find(*c, {key}) : nullptr);
    return l.carrier_ipv6 && v != kAbsent ? ip6(v) : v;
  };
  const auto their_addr = [&](const std::string& field) {
    const std::string* v = t.get(field, ci);
    if (v == nullptr) return std::string(kAbsent);
    return l.carrier_ipv6 ? ip6(*v) : *v;
  };
  r.check(ip + ".src (carrier)", addr("source"), their_addr(ip + ".src"));
  r.check(ip + ".dst (carrier)", addr("destination"), their_addr(ip + ".dst"));
  const std::size_t ui = l.udp_before - 1;
  r.check("udp.srcport (carrier)", text(c ? find(*c, {"source_port"}) : nullptr),
          t.number("udp.srcport", ui));
  r.check("udp.dstport (carrier)", text(c ? find(*c, {"destination_port"}) : nullptr),
          t.number("udp.dstport", ui));
  r.check("udp.length (carrier)", text(c ? find(*c, {"udp_length"}) : nullptr),
          t.number("udp.length", ui));
  const ordered_json* depth = c ? find(*c, {"tunnel_depth"}) : nullptr;
  r.check("gtp (layers before teredo)", depth ? text(depth) : "0", std::to_string(l.gtp_before));
}

void compare_encapsulations(const ordered_json& ours, const Tshark& t, Recorder& r) {
  const ordered_json* auth = find(ours, {"authentication"});
  r.check_presence("teredo.auth", auth != nullptr, t.has("teredo.auth"));
  if (auth != nullptr && t.has("teredo.auth")) {
    const std::string id = text(find(*auth, {"client_id"}));
    const std::string value = text(find(*auth, {"authentication_value"}));
    r.check("teredo.auth.idlen", std::to_string(id.size() / 2), t.number("teredo.auth.idlen"));
    r.check("teredo.auth.aulen", std::to_string(value.size() / 2), t.number("teredo.auth.aulen"));
    // tshark leaves the id and value out when their length is 0.
    r.check("teredo.auth.id", id.empty() ? kAbsent : id,
            t.has("teredo.auth.id") ? hex(t.str("teredo.auth.id")) : kAbsent);
    r.check("teredo.auth.value", value.empty() ? kAbsent : value,
            t.has("teredo.auth.value") ? hex(t.str("teredo.auth.value")) : kAbsent);
    r.check("teredo.auth.nonce", text(find(*auth, {"nonce"})), hex(t.str("teredo.auth.nonce")));
    const ordered_json* conf = find(*auth, {"confirmation"});
    r.check("teredo.auth.conf",
            conf && conf->is_number() ? fmt::format("{:02x}", conf->get<unsigned>()) : text(conf),
            hex(t.str("teredo.auth.conf")));
  }
  const ordered_json* origin = find(ours, {"origin"});
  r.check_presence("teredo.orig", origin != nullptr, t.has("teredo.orig"));
  if (origin != nullptr && t.has("teredo.orig")) {
    r.check("teredo.orig.port", text(find(*origin, {"port"})), t.number("teredo.orig.port"));
    r.check("teredo.orig.addr", text(find(*origin, {"ipv4"})), t.str("teredo.orig.addr"));
  }
}

// One inner address ("src" or "dst") at ipv6 layer `k`.
void compare_address(const std::string& side, const ordered_json* ours, const Tshark& t,
                     std::size_t k, Recorder& r) {
  const std::string field = "ipv6." + side;
  const std::string ours_text =
      ours == nullptr ? kAbsent : text(ours->is_object() ? find(*ours, {"address"}) : ours);
  const std::string* theirs = t.get(field, k);
  r.check(field, ours_text == kAbsent ? ours_text : ip6(ours_text),
          theirs ? ip6(*theirs) : kAbsent);
  if (ours == nullptr || theirs == nullptr) return;
  const auto address = wire::parse_ipv6(*theirs);
  if (!address) return;  // recorded above as a text mismatch

  // tshark adds ipv6.<side>_ts_ipv4/_tc_port/_tc_ipv4 for every address in
  // 2001:0::/32, in tree order: the entry for layer k comes after one entry per
  // Teredo address in layers 0..k-1. Check that reading of tshark's output too.
  std::size_t teredo_before = 0, teredo_all = 0;
  for (std::size_t i = 0; i < t.count(field); ++i) {
    const auto a = wire::parse_ipv6(*t.get(field, i));
    const bool teredo = a && is_teredo_prefix(*a);
    teredo_all += teredo ? 1 : 0;
    if (i < k) teredo_before += teredo ? 1 : 0;
  }
  r.check(field + "_ts_ipv4 (entries = Teredo addresses in " + field + ")",
          std::to_string(teredo_all), std::to_string(t.count(field + "_ts_ipv4")));

  const bool tshark_teredo = is_teredo_prefix(*address);
  r.check(field + " (Teredo address)", ours->is_object() ? "yes" : "no",
          tshark_teredo ? "yes" : "no");
  if (!ours->is_object() || !tshark_teredo) return;
  const std::size_t s = teredo_before;
  r.check(field + "_ts_ipv4", text(find(*ours, {"server"})), t.str(field + "_ts_ipv4", s));
  r.check(field + "_tc_port", text(find(*ours, {"mapped_port"})), t.number(field + "_tc_port", s));
  r.check(field + "_tc_ipv4", text(find(*ours, {"mapped_ipv4"})), t.str(field + "_tc_ipv4", s));
  // TShark 4.0 has no flags field: take the 16 bits from tshark's address text.
  const std::uint16_t flags = address->group(4);
  r.check(field + " flags", num(text(find(*ours, {"flags"}))), std::to_string(flags));
  r.check(field + " cone bit", text(find(*ours, {"cone"})), (flags & 0x8000) ? "1" : "0");
  r.check(field + " random bits", num(text(find(*ours, {"random_bits"}))),
          std::to_string(flags & 0x3CFF));
}

void compare_nd_options(const ordered_json* options, const Tshark& t, Recorder& r) {
  if (options == nullptr && r.partial()) return;
  r.check("icmpv6.opt.type (count)", options ? text(find(*options, {"count"})) : "0",
          std::to_string(t.count("icmpv6.opt.type")));
  r.check("icmpv6.opt.prefix (count)",
          options ? text(find(*options, {"prefix_information_count"})) : "0",
          std::to_string(t.count("icmpv6.opt.prefix")));
  const ordered_json* prefix = options ? find(*options, {"prefix"}) : nullptr;
  r.check_presence("icmpv6.opt.prefix (first)", prefix != nullptr, t.has("icmpv6.opt.prefix"));
  if (prefix != nullptr && t.has("icmpv6.opt.prefix")) {
    // tshark shows the prefix as carried, host bits and all (ndpi-teredo,
    // suricata-verify): that is our "prefix_raw". Our "prefix" is masked.
    r.check("icmpv6.opt.prefix", ip6(text(find(*options, {"prefix_raw"}))),
            ip6(t.str("icmpv6.opt.prefix")));
    const std::string masked = text(prefix);
    const std::size_t slash = masked.find('/');
    const std::string ours_length = slash == std::string::npos ? kAbsent : masked.substr(slash + 1);
    r.check("icmpv6.opt.prefix.length", ours_length, t.number("icmpv6.opt.prefix.length"));
    const auto raw = wire::parse_ipv6(t.str("icmpv6.opt.prefix"));
    const auto length = t.value("icmpv6.opt.prefix.length");
    r.check("icmpv6.opt.prefix (masked to its length)",
            slash == std::string::npos ? masked : ip6(masked.substr(0, slash)),
            raw && length ? wire::to_string(mask(*raw, static_cast<unsigned>(*length))) : kAbsent);
    r.check("icmpv6.opt.prefix.flag", num(text(find(*options, {"prefix_flags"}))),
            t.number("icmpv6.opt.prefix.flag"));
    r.check("icmpv6.opt.prefix.valid_lifetime", text(find(*options, {"valid_lifetime"})),
            t.number("icmpv6.opt.prefix.valid_lifetime"));
    r.check("icmpv6.opt.prefix.preferred_lifetime", text(find(*options, {"preferred_lifetime"})),
            t.number("icmpv6.opt.prefix.preferred_lifetime"));
  }
  r.check("icmpv6.opt.mtu", text(options ? find(*options, {"mtu"}) : nullptr),
          t.number("icmpv6.opt.mtu"));
  r.check("icmpv6.opt.src_linkaddr",
          text(options ? find(*options, {"source_link_layer"}) : nullptr),
          t.has("icmpv6.opt.src_linkaddr") ? hex(t.str("icmpv6.opt.src_linkaddr")) : kAbsent);
}

void compare_icmpv6(const ordered_json& ours, const Tshark& t, Recorder& r) {
  const ordered_json* icmp = find(ours, {"icmpv6"});
  r.check_presence("icmpv6", icmp != nullptr, t.has("icmpv6.type"));
  if (icmp == nullptr || !t.has("icmpv6.type")) return;
  r.check("icmpv6.type", text(find(*icmp, {"type"})), t.number("icmpv6.type"));
  r.check("icmpv6.code", text(find(*icmp, {"code"})), t.number("icmpv6.code"));
  r.check("icmpv6.checksum", num(text(find(*icmp, {"checksum"}))), t.number("icmpv6.checksum"));
  // PROTO_CHECKSUM_E_BAD = 0, PROTO_CHECKSUM_E_GOOD = 1 (2 would be "unverified").
  const ordered_json* ok = find(*icmp, {"checksum_ok"});
  r.check("icmpv6.checksum.status", ok == nullptr ? kAbsent : (ok->get<bool>() ? "1" : "0"),
          t.number("icmpv6.checksum.status"));

  const ordered_json* ra = find(ours, {"router_advertisement"});
  const bool tshark_ra = t.has("icmpv6.nd.ra.cur_hop_limit");
  r.check_presence("icmpv6.nd.ra", ra != nullptr, tshark_ra);
  if (ra != nullptr && tshark_ra) {
    r.check("icmpv6.nd.ra.cur_hop_limit", text(find(*ra, {"cur_hop_limit"})),
            t.number("icmpv6.nd.ra.cur_hop_limit"));
    r.check("icmpv6.nd.ra.flag", num(text(find(*ra, {"flags"}))), t.number("icmpv6.nd.ra.flag"));
    r.check("icmpv6.nd.ra.router_lifetime", text(find(*ra, {"router_lifetime"})),
            t.number("icmpv6.nd.ra.router_lifetime"));
    r.check("icmpv6.nd.ra.reachable_time", text(find(*ra, {"reachable_time"})),
            t.number("icmpv6.nd.ra.reachable_time"));
    r.check("icmpv6.nd.ra.retrans_timer", text(find(*ra, {"retrans_timer"})),
            t.number("icmpv6.nd.ra.retrans_timer"));
  }
  const ordered_json* options =
      ra ? find(*ra, {"options"}) : find(ours, {"router_solicitation", "options"});
  compare_nd_options(options, t, r);

  const ordered_json* echo = find(ours, {"echo"});
  if (echo == nullptr && r.partial()) return;
  r.check("icmpv6.echo.identifier", text(echo ? find(*echo, {"identifier"}) : nullptr),
          t.number("icmpv6.echo.identifier"));
  r.check("icmpv6.echo.sequence_number", text(echo ? find(*echo, {"sequence"}) : nullptr),
          t.number("icmpv6.echo.sequence_number"));
}

}  // namespace

FrameComparison compare_frame(const ordered_json& ours, const Layers& theirs) {
  FrameComparison out;
  // An error of ours other than a bad ICMPv6 checksum (compared on its own
  // below) means the frame is malformed: tshark must say so too.
  const std::string error = text(find(ours, {"error"}));
  const bool malformed = error != kAbsent && error != "bad_icmpv6_checksum";
  Recorder r(ours.at("frame").get<std::uint64_t>(), malformed, out);
  const Tshark t(theirs);
  const Layout l = layout_of(t.str("frame.protocols"));
  r.check("frame.protocols (has teredo)", "teredo", l.teredo ? "teredo" : kAbsent);
  if (!l.teredo || l.udp_before == 0 || l.ip_before + l.ipv6_before == 0) return out;

  compare_carrier(ours, t, l, r);
  compare_encapsulations(ours, t, r);

  const ordered_json* ip = find(ours, {"ipv6"});
  const std::size_t k = l.ipv6_before;  // the Teredo IPv6 header
  r.check_presence("ipv6 (Teredo packet)", ip != nullptr, t.get("ipv6.src", k) != nullptr);
  if (ip != nullptr && t.get("ipv6.src", k) != nullptr) {
    r.check("ipv6.plen", text(find(*ip, {"payload_length"})), t.number("ipv6.plen", k));
    r.check("ipv6.nxt", text(find(*ip, {"next_header"})), t.number("ipv6.nxt", k));
    r.check("ipv6.hlim", text(find(*ip, {"hop_limit"})), t.number("ipv6.hlim", k));
    compare_address("src", find(*ip, {"source"}), t, k, r);
    compare_address("dst", find(*ip, {"destination"}), t, k, r);

    const auto plen = t.value("ipv6.plen", k);
    const auto nxt = t.value("ipv6.nxt", k);
    r.check("bubble (ipv6.nxt 59, ipv6.plen 0)", text(find(ours, {"bubble"})),
            plen && nxt ? (*plen == 0 && *nxt == 59 ? "1" : "0") : kAbsent);
    // Bytes after the IPv6 packet (RFC 6081 trailers), from tshark's lengths:
    // UDP payload - authentication - origin indication - IPv6 packet.
    const auto udp_length = t.value("udp.length", l.udp_before - 1);
    std::string theirs_trailer = kAbsent;
    if (udp_length && plen) {
      std::int64_t rest =
          static_cast<std::int64_t>(*udp_length) - 8 - 40 - static_cast<std::int64_t>(*plen);
      if (t.has("teredo.auth")) {
        rest -= 13 + static_cast<std::int64_t>(t.value("teredo.auth.idlen").value_or(0) +
                                               t.value("teredo.auth.aulen").value_or(0));
      }
      if (t.has("teredo.orig")) rest -= 8;
      theirs_trailer = std::to_string(rest);
    }
    const ordered_json* trailer = find(ours, {"trailer_length"});
    r.check("trailer bytes (udp.length - 8 - encapsulations - 40 - ipv6.plen)",
            trailer ? text(trailer) : "0", theirs_trailer);
    const ordered_json* echo = find(ours, {"echo"});
    if (echo != nullptr) {
      r.check("echo data (ipv6.plen - 8)", text(find(*echo, {"data_length"})),
              plen && *plen >= 8 ? std::to_string(*plen - 8) : kAbsent);
    }
  }
  compare_icmpv6(ours, t, r);

  r.check("_ws.malformed", malformed ? "malformed" : kAbsent,
          t.has("_ws.malformed") ? "malformed" : kAbsent);
  return out;
}

CaptureComparison compare_capture(const std::vector<ordered_json>& ours,
                                  const TsharkFrames& theirs) {
  CaptureComparison c;
  c.frames_total = ours.size();
  c.frames_tshark = theirs.size();
  std::uint64_t last = 0;
  for (const ordered_json& j : ours) {
    const auto frame = j.at("frame").get<std::uint64_t>();
    last = std::max(last, frame);
    const bool teredo = j.value("teredo", false);
    const auto it = theirs.find(frame);
    const bool tshark_teredo = it != theirs.end();
    c.frames_ours += teredo ? 1 : 0;
    if (teredo != tshark_teredo) {
      c.mismatches.push_back(
          Mismatch{frame, "teredo", teredo ? "true" : "false", tshark_teredo ? "true" : "false"});
    }
    if (!teredo || !tshark_teredo) continue;
    const FrameComparison f = compare_frame(j, it->second);
    c.min_fields = c.frames_compared == 0 ? f.fields : std::min(c.min_fields, f.fields);
    c.max_fields = std::max(c.max_fields, f.fields);
    ++c.frames_compared;
    c.fields_compared += f.fields;
    c.mismatches.insert(c.mismatches.end(), f.mismatches.begin(), f.mismatches.end());
  }
  for (const auto& [frame, layers] : theirs) {
    if (frame > last) c.mismatches.push_back(Mismatch{frame, "teredo", kAbsent, "true"});
  }
  std::sort(c.mismatches.begin(), c.mismatches.end());
  return c;
}

std::vector<std::string> reconcile(const std::vector<Mismatch>& actual,
                                   const std::vector<Mismatch>& listed) {
  std::vector<std::string> problems;
  for (const Mismatch& m : actual) {
    if (std::find(listed.begin(), listed.end(), m) == listed.end()) {
      problems.push_back("disagreement: " + describe(m));
    }
  }
  for (const Mismatch& m : listed) {
    if (std::find(actual.begin(), actual.end(), m) == actual.end()) {
      problems.push_back("listed disagreement no longer happens (update the table): " +
                         describe(m));
    }
  }
  return problems;
}

std::vector<ordered_json> decode_capture(const std::string& path) {
  capture::PcapReader reader(path);  // CaptureError is a runtime_error
  if (!wire::is_supported_link_type(reader.link_type())) {
    throw std::runtime_error(
        fmt::format("{}: link type {} is not supported", path, reader.link_type()));
  }
  const auto link = static_cast<wire::LinkType>(reader.link_type());
  std::vector<ordered_json> frames;
  capture::Frame frame;
  for (;;) {
    switch (reader.next(frame)) {
      case capture::PcapReader::Status::end:
        return frames;
      case capture::PcapReader::Status::error:
        throw std::runtime_error(
            fmt::format("{}: after frame {}: {}", path, frame.number, reader.error()));
      case capture::PcapReader::Status::frame:
        frames.push_back(decode::decode_frame(frame.number, link, frame.data));
        break;
    }
  }
}

}  // namespace teredo::oracle
