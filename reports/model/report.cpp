#include "teredo/reports/report.hpp"

#include "report_schema.hpp"  // generated: kTeredoComplianceReportSchemaJson

namespace teredo::reports {

using nlohmann::json;

const json& report_schema_json() {
  static const json schema = json::parse(schema_file::kTeredoComplianceReportSchemaJson);
  return schema;
}

const schema::JsonSchema& report_schema() {
  static const schema::JsonSchema compiled(report_schema_json());
  return compiled;
}

const std::string& schema_name() {
  static const std::string name = report_schema_json().at("properties").at("schema").at("const").get<std::string>();
  return name;
}

const std::string& schema_version() {
  static const std::string version = report_schema_json().at("version").get<std::string>();
  return version;
}

Report report_from_json(const json& document) {
  try {
    return document.get<Report>();
  } catch (const json::exception& e) {
    // The schema names where the document goes wrong; the types' own message
    // ("key 'gate' not found") only when the schema finds nothing.
    const auto problems = report_schema().validate(document);
    throw InvalidReport("not a report.json (" + schema_name() + " " + schema_version() + "): " +
                        (problems.empty() ? std::string(e.what()) : schema::to_string(problems.front())));
  }
}

Summary summarize(const std::vector<Case>& cases, Coverage coverage) {
  Summary s;
  s.total = static_cast<std::int64_t>(cases.size());
  for (const Verdict v : kVerdicts) s.by_verdict[std::string(to_string(v))] = 0;
  for (const Case& c : cases) {
    const std::string v(to_string(c.verdict));
    ++s.by_verdict[v];
    ++s.by_level[std::string(to_string(c.level))][v];
  }
  s.coverage = std::move(coverage);
  return s;
}

namespace {

// A key that is left out when the optional is empty.
template <typename T>
void put_present(json& j, const char* key, const std::optional<T>& value) {
  if (value) j[key] = *value;
}
template <typename T>
void read_present(const json& j, const char* key, std::optional<T>& out) {
  if (const auto it = j.find(key); it != j.end()) out = it->template get<T>();
  else out.reset();
}

}  // namespace

void to_json(json& j, const Run& v) {
  j = {{"run_id", v.run_id},
       {"started_at", v.started_at},
       {"finished_at", v.finished_at},
       {"duration_ms", v.duration_ms},
       {"harness", v.harness},
       {"host", v.host},
       {"command_line", v.command_line},
       {"master_seed", v.master_seed},
       {"selection", v.selection},
       {"options", v.options}};
  put_present(j, "shard", v.shard);
  put_present(j, "merged_from", v.merged_from);
}
void from_json(const json& j, Run& v) {
  j.at("run_id").get_to(v.run_id);
  j.at("started_at").get_to(v.started_at);
  j.at("finished_at").get_to(v.finished_at);
  j.at("duration_ms").get_to(v.duration_ms);
  j.at("harness").get_to(v.harness);
  j.at("host").get_to(v.host);
  j.at("command_line").get_to(v.command_line);
  j.at("master_seed").get_to(v.master_seed);
  j.at("selection").get_to(v.selection);
  j.at("options").get_to(v.options);
  read_present(j, "shard", v.shard);
  read_present(j, "merged_from", v.merged_from);
}

void to_json(json& j, const Pcap& v) {
  j = {{"path", v.path}, {"vantage", v.vantage}, {"packets", v.packets}, {"sha256", v.sha256}};
  put_present(j, "capped", v.capped);
}
void from_json(const json& j, Pcap& v) {
  j.at("path").get_to(v.path);
  j.at("vantage").get_to(v.vantage);
  j.at("packets").get_to(v.packets);
  j.at("sha256").get_to(v.sha256);
  read_present(j, "capped", v.capped);
}

void to_json(json& j, const Log& v) {
  j = {{"path", v.path}, {"what", v.what}};
  put_present(j, "capped", v.capped);
}
void from_json(const json& j, Log& v) {
  j.at("path").get_to(v.path);
  j.at("what").get_to(v.what);
  read_present(j, "capped", v.capped);
}

void to_json(json& j, const Evidence& v) {
  j = {{"dir", v.dir}, {"pcaps", v.pcaps}, {"logs", v.logs}};
  put_present(j, "cap_bytes", v.cap_bytes);
}
void from_json(const json& j, Evidence& v) {
  j.at("dir").get_to(v.dir);
  j.at("pcaps").get_to(v.pcaps);
  j.at("logs").get_to(v.logs);
  read_present(j, "cap_bytes", v.cap_bytes);
}

void to_json(json& j, const Report& v) {
  j = {{"schema", v.schema},         {"schema_version", v.schema_version},
       {"complete", v.complete},     {"run", v.run},
       {"iut", v.iut},               {"requirements", v.requirements},
       {"cases", v.cases},           {"summary", v.summary}};
  put_present(j, "gate", v.gate);
  put_present(j, "fuzz", v.fuzz);
}
void from_json(const json& j, Report& v) {
  j.at("schema").get_to(v.schema);
  j.at("schema_version").get_to(v.schema_version);
  j.at("complete").get_to(v.complete);
  j.at("run").get_to(v.run);
  j.at("iut").get_to(v.iut);
  j.at("requirements").get_to(v.requirements);
  j.at("cases").get_to(v.cases);
  j.at("summary").get_to(v.summary);
  read_present(j, "gate", v.gate);
  read_present(j, "fuzz", v.fuzz);
}

}  // namespace teredo::reports
