// Everything in reference/wire, for code that uses most of it.
#pragma once

#include "teredo/wire/bytes.hpp"
#include "teredo/wire/checksum.hpp"
#include "teredo/wire/datagram.hpp"
#include "teredo/wire/encapsulation.hpp"
#include "teredo/wire/frame.hpp"
#include "teredo/wire/hmac.hpp"
#include "teredo/wire/icmpv6.hpp"
#include "teredo/wire/ipv4.hpp"
#include "teredo/wire/ipv6.hpp"
#include "teredo/wire/nd.hpp"
#include "teredo/wire/result.hpp"
#include "teredo/wire/teredo_address.hpp"
#include "teredo/wire/trailer.hpp"
