#include "teredo/nat/igd.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>

namespace teredo::nat {

namespace {

constexpr std::string_view kDeviceType = "urn:schemas-upnp-org:device:InternetGatewayDevice:1";
constexpr std::string_view kIpConnection = "urn:schemas-upnp-org:service:WANIPConnection:1";
constexpr std::string_view kCommonInterface = "urn:schemas-upnp-org:service:WANCommonInterfaceConfig:1";
constexpr std::size_t kMaxRequest = 16 * 1024;

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// The value of header `name` in an HTTP-style head (lines after the first).
std::optional<std::string_view> header(std::string_view head, std::string_view name) {
  std::size_t at = head.find('\n');
  while (at != std::string_view::npos && at + 1 < head.size()) {
    const std::size_t next = head.find('\n', at + 1);
    const std::string_view line = head.substr(at + 1, next == std::string_view::npos ? next : next - at - 1);
    const std::size_t colon = line.find(':');
    if (colon != std::string_view::npos && iequals(trim(line.substr(0, colon)), name)) {
      return trim(line.substr(colon + 1));
    }
    at = next;
  }
  return std::nullopt;
}

std::string unescape(std::string_view s) {
  static const std::pair<std::string_view, char> kEntities[] = {
      {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
  std::string out;
  for (std::size_t i = 0; i < s.size();) {
    bool replaced = false;
    if (s[i] == '&') {
      for (const auto& [entity, c] : kEntities) {
        if (s.substr(i, entity.size()) == entity) {
          out.push_back(c);
          i += entity.size();
          replaced = true;
          break;
        }
      }
    }
    if (!replaced) out.push_back(s[i++]);
  }
  return out;
}

std::string escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

std::string_view local_name(std::string_view qualified) {
  const std::size_t colon = qualified.find(':');
  return colon == std::string_view::npos ? qualified : qualified.substr(colon + 1);
}

// The child elements of the element named `action` (any prefix) in a SOAP
// body: <Name>text</Name> or <Name/>. False if the element is not there.
bool action_arguments(std::string_view body, std::string_view action, std::map<std::string, std::string>& out) {
  std::size_t at = 0;
  for (;;) {
    at = body.find('<', at);
    if (at == std::string_view::npos) return false;
    const std::size_t end = body.find_first_of(" \t\r\n/>", at + 1);
    if (end == std::string_view::npos) return false;
    const std::string_view name = body.substr(at + 1, end - at - 1);
    const std::size_t close = body.find('>', at);
    if (close == std::string_view::npos) return false;
    at = close + 1;
    if (!name.empty() && name[0] != '/' && name[0] != '?' && local_name(name) == action) break;
  }
  // Children until the closing tag of the action.
  for (;;) {
    const std::size_t open = body.find('<', at);
    if (open == std::string_view::npos || open + 1 >= body.size()) return false;
    if (body[open + 1] == '/') return true;  // </u:Action>
    const std::size_t close = body.find('>', open);
    if (close == std::string_view::npos) return false;
    std::string_view tag = body.substr(open + 1, close - open - 1);
    const bool empty = !tag.empty() && tag.back() == '/';
    if (empty) tag.remove_suffix(1);
    tag = tag.substr(0, tag.find_first_of(" \t\r\n"));
    const std::string name(local_name(tag));
    if (empty) {
      out[name] = "";
      at = close + 1;
      continue;
    }
    const std::size_t text_end = body.find("</", close + 1);
    if (text_end == std::string_view::npos) return false;
    out[name] = unescape(body.substr(close + 1, text_end - close - 1));
    const std::size_t end_close = body.find('>', text_end);
    if (end_close == std::string_view::npos) return false;
    at = end_close + 1;
  }
}

template <class T>
std::optional<T> parse_number(std::string_view s) {
  T v{};
  s = trim(s);
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

std::string http_response(std::string_view status, std::string_view content_type, const std::string& body) {
  return fmt::format(
      "HTTP/1.1 {}\r\nContent-Type: {}\r\nConnection: close\r\nContent-Length: {}\r\n"
      "Server: Linux UPnP/1.0 teredo-nat/1\r\nEXT:\r\n\r\n{}",
      status, content_type, body.size(), body);
}

std::string envelope(const std::string& inner) {
  return "<?xml version=\"1.0\"?>\r\n<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\" "
         "s:encodingStyle=\"http://schemas.xmlsoap.org/soap/encoding/\"><s:Body>" +
         inner + "</s:Body></s:Envelope>\r\n";
}

const char* error_description(int code) {
  switch (code) {
    case 401: return "Invalid Action";
    case 501: return "Action Failed";
    case 402: return "Invalid Args";
    case 606: return "Action not authorized";
    case 713: return "SpecifiedArrayIndexInvalid";
    case 714: return "NoSuchEntryInArray";
    case 718: return "ConflictInMappingEntry";
    case 724: return "SamePortValuesRequired";
    case 725: return "OnlyPermanentLeasesSupported";
    case 726: return "RemoteHostOnlySupportsWildcard";
    default: return "Action Failed";
  }
}

std::string soap_fault(int code) {
  return http_response(
      "500 Internal Server Error", "text/xml; charset=\"utf-8\"",
      envelope(fmt::format("<s:Fault><faultcode>s:Client</faultcode><faultstring>UPnPError</faultstring><detail>"
                           "<UPnPError xmlns=\"urn:schemas-upnp-org:control-1-0\"><errorCode>{}</errorCode>"
                           "<errorDescription>{}</errorDescription></UPnPError></detail></s:Fault>",
                           code, error_description(code))));
}

std::string soap_ok(std::string_view action, std::string_view service,
                    const std::vector<std::pair<std::string, std::string>>& values) {
  std::string inner = fmt::format("<u:{}Response xmlns:u=\"{}\">", action, service);
  for (const auto& [name, value] : values) inner += fmt::format("<{0}>{1}</{0}>", name, escape(value));
  inner += fmt::format("</u:{}Response>", action);
  return http_response("200 OK", "text/xml; charset=\"utf-8\"", envelope(inner));
}

}  // namespace

std::string ipv4_text(std::uint32_t a) {
  return fmt::format("{}.{}.{}.{}", a >> 24, (a >> 16) & 0xFF, (a >> 8) & 0xFF, a & 0xFF);
}

std::optional<std::uint32_t> parse_ipv4(std::string_view text) {
  std::uint32_t out = 0;
  for (int i = 0; i < 4; ++i) {
    const std::size_t dot = i < 3 ? text.find('.') : text.size();
    if (dot == std::string_view::npos || dot == 0 || dot > 3) return std::nullopt;
    const auto byte = parse_number<unsigned>(text.substr(0, dot));
    if (!byte || *byte > 255) return std::nullopt;
    out = (out << 8) | *byte;
    text.remove_prefix(i < 3 ? dot + 1 : dot);
  }
  return text.empty() ? std::optional<std::uint32_t>(out) : std::nullopt;
}

std::optional<std::string> Igd::ssdp(std::string_view datagram) const {
  const std::size_t line_end = datagram.find("\r\n");
  if (line_end == std::string_view::npos || !iequals(trim(datagram.substr(0, line_end)), "M-SEARCH * HTTP/1.1")) {
    return std::nullopt;
  }
  const auto man = header(datagram, "MAN");
  const auto st = header(datagram, "ST");
  if (!man || *man != "\"ssdp:discover\"" || !st) return std::nullopt;
  const std::string uuid = "uuid:" + config_.uuid;
  std::string answered(*st);
  if (*st == "ssdp:all") answered = std::string(kDeviceType);
  const bool known = answered == kDeviceType || answered == kIpConnection || answered == kCommonInterface ||
                     answered == "upnp:rootdevice" || answered == uuid ||
                     answered == "urn:schemas-upnp-org:device:WANDevice:1" ||
                     answered == "urn:schemas-upnp-org:device:WANConnectionDevice:1";
  if (!known) return std::nullopt;
  const std::string usn = answered == uuid ? uuid : uuid + "::" + answered;
  return fmt::format(
      "HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=120\r\nST: {}\r\nUSN: {}\r\nEXT:\r\n"
      "SERVER: Linux UPnP/1.0 teredo-nat/1\r\nLOCATION: http://{}:{}/rootDesc.xml\r\n\r\n",
      answered, usn, ipv4_text(config_.inside_address), config_.http_port);
}

std::optional<std::size_t> Igd::request_length(std::string_view buffer) {
  const std::size_t head_end = buffer.find("\r\n\r\n");
  if (head_end == std::string_view::npos) {
    if (buffer.size() > kMaxRequest) return 0;
    return std::nullopt;
  }
  std::size_t body = 0;
  if (const auto length = header(buffer.substr(0, head_end + 2), "Content-Length")) {
    const auto n = parse_number<std::size_t>(*length);
    if (!n || *n > kMaxRequest) return 0;
    body = *n;
  }
  if (buffer.size() < head_end + 4 + body) return std::nullopt;
  return head_end + 4 + body;
}

std::string Igd::root_description() const {
  const auto service = [](std::string_view type, std::string_view id, std::string_view name) {
    return fmt::format(
        "<service><serviceType>{0}</serviceType><serviceId>urn:upnp-org:serviceId:{1}</serviceId>"
        "<SCPDURL>/{2}.xml</SCPDURL><controlURL>/ctl/{2}</controlURL><eventSubURL>/evt/{2}</eventSubURL></service>",
        type, id, name);
  };
  return fmt::format(
      "<?xml version=\"1.0\"?>\r\n<root xmlns=\"urn:schemas-upnp-org:device-1-0\">"
      "<specVersion><major>1</major><minor>0</minor></specVersion>"
      "<device><deviceType>{0}</deviceType><friendlyName>teredo-nat IGD</friendlyName>"
      "<manufacturer>teredo-conformance</manufacturer><modelName>teredo-nat</modelName><UDN>uuid:{1}</UDN>"
      "<deviceList><device><deviceType>urn:schemas-upnp-org:device:WANDevice:1</deviceType>"
      "<friendlyName>WANDevice</friendlyName><UDN>uuid:{1}-wan</UDN><serviceList>{2}</serviceList>"
      "<deviceList><device><deviceType>urn:schemas-upnp-org:device:WANConnectionDevice:1</deviceType>"
      "<friendlyName>WANConnectionDevice</friendlyName><UDN>uuid:{1}-conn</UDN><serviceList>{3}</serviceList>"
      "</device></deviceList></device></deviceList>"
      "<presentationURL>http://{4}:{5}/</presentationURL></device></root>\r\n",
      kDeviceType, config_.uuid, service(kCommonInterface, "WANCommonIFC1", "CmnIfCfg"),
      service(kIpConnection, "WANIPConn1", "IPConn"), ipv4_text(config_.inside_address), config_.http_port);
}

std::string Igd::http(Time now, std::uint32_t client, std::string_view request) {
  const std::size_t head_end = request.find("\r\n\r\n");
  if (head_end == std::string_view::npos) return http_response("400 Bad Request", "text/plain", "");
  const std::string_view head = request.substr(0, head_end + 2);
  const std::string_view body = request.substr(head_end + 4);
  const std::string_view line = head.substr(0, head.find("\r\n"));
  const std::size_t sp1 = line.find(' ');
  const std::size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos) return http_response("400 Bad Request", "text/plain", "");
  const std::string_view method = line.substr(0, sp1);
  const std::string_view path = line.substr(sp1 + 1, sp2 - sp1 - 1);
  if (method == "GET" && path == "/rootDesc.xml") {
    return http_response("200 OK", "text/xml; charset=\"utf-8\"", root_description());
  }
  if (method == "GET" && (path == "/IPConn.xml" || path == "/CmnIfCfg.xml")) {
    // Service descriptions: the actions by name (clients here never read them).
    return http_response("200 OK", "text/xml; charset=\"utf-8\"",
                         "<?xml version=\"1.0\"?>\r\n<scpd xmlns=\"urn:schemas-upnp-org:service-1-0\">"
                         "<specVersion><major>1</major><minor>0</minor></specVersion></scpd>\r\n");
  }
  if (method == "POST" && (path == "/ctl/IPConn" || path == "/ctl/CmnIfCfg")) {
    const auto soap_action = header(head, "SOAPAction");
    if (!soap_action) return soap_fault(401);
    std::string_view value = *soap_action;
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
    const std::size_t hash = value.find('#');
    if (hash == std::string_view::npos) return soap_fault(401);
    // WANCommonInterfaceConfig is there for clients that look for it; none of
    // its actions is implemented.
    if (path != "/ctl/IPConn" || value.substr(0, hash) != kIpConnection) return soap_fault(401);
    return soap(now, client, value.substr(hash + 1), body);
  }
  return http_response("404 Not Found", "text/plain", "");
}

std::string Igd::soap(Time now, std::uint32_t client, std::string_view action, std::string_view body) {
  UpnpCall call{std::string(action), ipv4_text(client), {}, 0, engine_.outbound_from(client)};
  if (!action_arguments(body, action, call.arguments)) {
    call.error = 402;
    calls_.push_back(call);
    return soap_fault(402);
  }
  const auto fail = [&](int code) {
    call.error = code;
    calls_.push_back(call);
    return soap_fault(code);
  };
  const auto arg = [&](const char* name) -> std::optional<std::string_view> {
    const auto it = call.arguments.find(name);
    if (it == call.arguments.end()) return std::nullopt;
    return std::string_view(it->second);
  };
  const auto succeed = [&](const std::vector<std::pair<std::string, std::string>>& values) {
    calls_.push_back(call);
    return soap_ok(action, kIpConnection, values);
  };
  const auto udp_port = [&](const char* name) -> std::optional<std::uint16_t> {
    const auto text = arg(name);
    if (!text) return std::nullopt;
    const auto port = parse_number<unsigned>(*text);
    if (!port || *port == 0 || *port > 65535) return std::nullopt;
    return static_cast<std::uint16_t>(*port);
  };
  const auto entry_values = [&](std::uint16_t external, const Entry& e, bool with_key) {
    std::vector<std::pair<std::string, std::string>> v;
    if (with_key) {
      v = {{"NewRemoteHost", ""}, {"NewExternalPort", std::to_string(external)}, {"NewProtocol", "UDP"}};
    }
    v.insert(v.end(), {{"NewInternalPort", std::to_string(e.internal_port)},
                       {"NewInternalClient", ipv4_text(e.internal_client)},
                       {"NewEnabled", "1"},
                       {"NewPortMappingDescription", e.description},
                       {"NewLeaseDuration", "0"}});
    return v;
  };

  if (const auto refused = refusals_.find(std::string(action)); refused != refusals_.end() && refused->second != 0) {
    return fail(refused->second);  // a case asked for this failure
  }
  if (action == "GetExternalIPAddress") {
    return succeed({{"NewExternalIPAddress", ipv4_text(config_.outside_address)}});
  }
  if (action == "GetStatusInfo") {
    return succeed({{"NewConnectionStatus", "Connected"}, {"NewLastConnectionError", "ERROR_NONE"}, {"NewUptime", "1"}});
  }
  if (action == "GetConnectionTypeInfo") {
    return succeed({{"NewConnectionType", "IP_Routed"}, {"NewPossibleConnectionTypes", "IP_Routed"}});
  }
  if (action == "AddPortMapping") {
    const auto external = udp_port("NewExternalPort");
    const auto internal = udp_port("NewInternalPort");
    const auto protocol = arg("NewProtocol");
    // (Plain values, not optionals: GCC 12 warns falsely on optional<uint32_t> here.)
    const auto client_text = arg("NewInternalClient");
    const auto lease_text = arg("NewLeaseDuration");
    const auto parsed_client = client_text ? parse_ipv4(*client_text) : std::nullopt;
    const auto parsed_lease = lease_text ? parse_number<std::uint32_t>(*lease_text) : std::nullopt;
    if (!external || !internal || !protocol || !parsed_client || !parsed_lease) return fail(402);
    const std::uint32_t internal_client = parsed_client.value_or(0);
    const std::uint32_t lease = parsed_lease.value_or(0);
    if (!arg("NewRemoteHost") || !arg("NewRemoteHost")->empty()) return fail(726);
    if (*protocol != "UDP") return fail(402);  // the NAT translates UDP only
    if (lease != 0) return fail(725);
    // As miniupnpd's secure mode: a host maps ports to itself only.
    if (internal_client != client) return fail(606);
    const auto description = arg("NewPortMappingDescription");
    if (const auto it = entries_.find(*external);
        it != entries_.end() && (it->second.internal_client != client || it->second.internal_port != *internal)) {
      return fail(718);
    }
    const auto result = engine_.add_port_mapping(now, *external, Endpoint{internal_client, *internal});
    if (result != PortMappingResult::ok) return fail(static_cast<int>(result));
    entries_[*external] = Entry{description ? std::string(*description) : std::string(), *internal, internal_client};
    return succeed({});
  }
  if (action == "DeletePortMapping") {
    const auto external = udp_port("NewExternalPort");
    const auto protocol = arg("NewProtocol");
    if (!external || !protocol) return fail(402);
    if (*protocol != "UDP") return fail(714);
    const auto it = entries_.find(*external);
    if (it == entries_.end()) return fail(714);
    if (it->second.internal_client != client) return fail(606);
    (void)engine_.delete_port_mapping(*external);
    entries_.erase(it);
    return succeed({});
  }
  if (action == "GetSpecificPortMappingEntry") {
    const auto external = udp_port("NewExternalPort");
    const auto protocol = arg("NewProtocol");
    if (!external || !protocol) return fail(402);
    const auto it = entries_.find(*external);
    if (it == entries_.end() || *protocol != "UDP") return fail(714);
    return succeed(entry_values(it->first, it->second, false));
  }
  if (action == "GetGenericPortMappingEntry") {
    const auto index = arg("NewPortMappingIndex") ? parse_number<std::size_t>(*arg("NewPortMappingIndex")) : std::nullopt;
    if (!index) return fail(402);
    if (*index >= entries_.size()) return fail(713);
    const auto it = std::next(entries_.begin(), static_cast<std::ptrdiff_t>(*index));
    return succeed(entry_values(it->first, it->second, true));
  }
  return fail(401);
}

}  // namespace teredo::nat
