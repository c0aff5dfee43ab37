// Field-by-field comparison of our decoder's JSON (teredo::decode) with
// tshark's fields for the same frame. Each comparison normalises both sides
// (numbers, IPv6 text, hex) and records a Mismatch when they differ, so a test
// can both fail on new differences and pin the known ones.
#pragma once

#include <compare>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "teredo/wire/frame.hpp"
#include "tshark.hpp"

namespace teredo::oracle {

inline constexpr const char* kAbsent = "<absent>";

struct Mismatch {
  std::uint64_t frame = 0;
  std::string field;   // tshark's field name (or "teredo" for the frame set)
  std::string ours;    // normalised; kAbsent when we have no value
  std::string theirs;  // normalised; kAbsent when tshark has no value
  auto operator<=>(const Mismatch&) const = default;
};

std::string describe(const Mismatch& m);

struct FrameComparison {
  std::size_t fields = 0;  // comparisons made
  std::vector<Mismatch> mismatches;
};

// `ours` is decode_frame's object for a frame we call Teredo, `theirs` is
// tshark's layers for that frame.
FrameComparison compare_frame(const nlohmann::ordered_json& ours, const Layers& theirs);

struct CaptureComparison {
  std::size_t frames_total = 0;                // frames in the capture
  std::size_t frames_ours = 0;                 // frames we call Teredo
  std::size_t frames_tshark = 0;               // frames tshark calls Teredo
  std::size_t frames_compared = 0;             // in both: compared field by field
  std::size_t fields_compared = 0;             // sum over those frames
  std::size_t min_fields = 0, max_fields = 0;  // per compared frame
  std::vector<Mismatch> mismatches;            // sorted; frame-set differences use field "teredo"
};

// `ours` holds decode_frame's object for every frame of the capture.
CaptureComparison compare_capture(const std::vector<nlohmann::ordered_json>& ours,
                                  const TsharkFrames& theirs);

// Reconciles what differs with what is listed as known (tshark's fault):
// one message per difference not listed and per listed difference that no
// longer happens. Empty when they are the same.
std::vector<std::string> reconcile(const std::vector<Mismatch>& actual,
                                   const std::vector<Mismatch>& listed);

// Reads every frame of a capture with PcapReader and decodes it with
// decode_frame. Throws std::runtime_error on an unreadable capture.
std::vector<nlohmann::ordered_json> decode_capture(const std::string& path);

}  // namespace teredo::oracle
