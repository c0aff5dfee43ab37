#include "teredo/wire/hmac.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <memory>

namespace teredo::wire {

std::string_view to_string(MacAlgorithm algorithm) noexcept {
  return algorithm == MacAlgorithm::hmac_md5 ? "hmac-md5" : "hmac-sha1";
}

std::optional<MacAlgorithm> parse_mac_algorithm(std::string_view name) noexcept {
  if (name == "hmac-sha1") return MacAlgorithm::hmac_sha1;
  if (name == "hmac-md5") return MacAlgorithm::hmac_md5;
  return std::nullopt;
}

namespace {
struct MacDeleter {
  void operator()(EVP_MAC* p) const noexcept { EVP_MAC_free(p); }
  void operator()(EVP_MAC_CTX* p) const noexcept { EVP_MAC_CTX_free(p); }
};
}  // namespace

std::optional<AuthenticationValue> compute_authentication_value(
    MacAlgorithm algorithm, Bytes secret, const Nonce& nonce, std::uint8_t confirmation,
    Bytes origin_encoded, Bytes ipv6_packet) {
  std::unique_ptr<EVP_MAC, MacDeleter> mac(EVP_MAC_fetch(nullptr, "HMAC", nullptr));
  if (!mac) return std::nullopt;
  std::unique_ptr<EVP_MAC_CTX, MacDeleter> ctx(EVP_MAC_CTX_new(mac.get()));
  if (!ctx) return std::nullopt;
  char digest[8];
  const std::string_view name = algorithm == MacAlgorithm::hmac_md5 ? "MD5" : "SHA1";
  name.copy(digest, name.size());
  digest[name.size()] = '\0';
  const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                               OSSL_PARAM_construct_end()};
  // An empty key is legal HMAC; OpenSSL wants a non-null pointer for it.
  static const unsigned char kEmpty = 0;
  if (EVP_MAC_init(ctx.get(), secret.empty() ? &kEmpty : secret.data(), secret.size(), params) != 1) {
    return std::nullopt;
  }
  // §5.2.2: nonce, confirmation byte, origin indication (if present), IPv6
  // packet, concatenated without padding.
  if (EVP_MAC_update(ctx.get(), nonce.data(), nonce.size()) != 1 ||
      EVP_MAC_update(ctx.get(), &confirmation, 1) != 1 ||
      (!origin_encoded.empty() &&
       EVP_MAC_update(ctx.get(), origin_encoded.data(), origin_encoded.size()) != 1) ||
      EVP_MAC_update(ctx.get(), ipv6_packet.data(), ipv6_packet.size()) != 1) {
    return std::nullopt;
  }
  AuthenticationValue value;
  std::size_t length = 0;
  if (EVP_MAC_final(ctx.get(), value.bytes.data(), &length, value.bytes.size()) != 1) {
    return std::nullopt;
  }
  value.size = length;
  return value;
}

bool verify_authentication(const TeredoDatagram& datagram, MacAlgorithm algorithm, Bytes secret) {
  if (!datagram.authentication) return false;
  const Authentication& auth = *datagram.authentication;
  const auto expected = compute_authentication_value(algorithm, secret, auth.nonce,
                                                     auth.confirmation, datagram.origin_encoded,
                                                     datagram.ipv6.packet);
  if (!expected || expected->size != auth.authentication_value.size()) return false;
  return CRYPTO_memcmp(expected->bytes.data(), auth.authentication_value.data(), expected->size) == 0;
}

}  // namespace teredo::wire
