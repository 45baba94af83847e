#include "apps/audit_command.h"

#include <fmt/format.h>

#include <iostream>
#include <map>
#include <memory>
#include <optional>

#include "agent/admin_client.h"
#include "apps/cli_util.h"
#include "audit/record.h"
#include "core/clock.h"
#include "core/file.h"
#include "core/json.h"
#include "crypto/key.h"

namespace ccburst::apps {
namespace {

namespace json = core::json;

struct AuditFlags {
  CLI::App *verify = nullptr, *query = nullptr, *report = nullptr, *exp = nullptr,
           *pubkey = nullptr;
  std::string file, key, from, to, html, out, admin_token_file, signing_key;
  std::string kind, workload, tee, resource, outcome;
};

std::string Str(const json::object& o, std::string_view name) {
  const json::value* v = o.if_contains(name);
  if (v == nullptr) return "";
  if (v->is_string()) return std::string(v->get_string());
  if (v->is_null()) return "";
  return json::serialize(*v);
}

// The record's outcome: an attestation's verdict, a release's or refusal's decision, a burst
// decision's direction.
std::string Outcome(const json::object& o) {
  for (std::string_view f : {"verdict", "decision", "direction"}) {
    if (std::string v = Str(o, f); !v.empty()) return v;
  }
  return "";
}

struct Window {
  std::optional<core::TimePoint> from, to;
  bool Contains(const json::object& o) const {
    auto t = core::ParseRfc3339(Str(o, "time"));
    if (!t.ok()) return !from && !to;
    if (from && *t < *from) return false;
    if (to && *t >= *to) return false;
    return true;
  }
};

absl::StatusOr<Window> ParseWindow(const AuditFlags& f) {
  Window w;
  if (!f.from.empty()) {
    CCB_ASSIGN_OR_RETURN(w.from, core::ParseRfc3339(f.from), "--from");
  }
  if (!f.to.empty()) {
    CCB_ASSIGN_OR_RETURN(w.to, core::ParseRfc3339(f.to), "--to");
  }
  return w;
}

absl::StatusOr<std::vector<json::object>> LoadEvents(const AuditFlags& f) {
  CCB_ASSIGN_OR_RETURN(std::string text, core::ReadFile(f.file));
  CCB_ASSIGN_OR_RETURN(std::vector<json::object> records, audit::ParseExport(text), "`{}`", f.file);
  return records;
}

int RunVerify(const AuditFlags& f) {
  auto text = core::ReadFile(f.file);
  if (!text.ok()) return Fail(text.status());
  auto key = crypto::PublicKey::LoadPemFile(f.key);
  if (!key.ok()) return Fail(core::Annotate(key.status(), fmt::format("--key `{}`", f.key)));
  audit::VerifyReport r = audit::Verify(*text, *key);
  if (!r.ok()) {
    for (const audit::Finding& finding : r.findings) {
      std::cerr << "ccburst: audit verify: " << f.file << ": " << finding.ToString() << "\n";
    }
    std::cerr << fmt::format(
        "ccburst: audit verify: FAILED: {} problem(s); the first at record {}\n", r.findings.size(),
        r.findings.front().line);
    return 1;
  }
  std::cout << fmt::format(
      "audit verify: OK: {} records ({} signed checkpoints), head {}, signed export trailer\n",
      r.records, r.checkpoints, r.head.digest);
  return 0;
}

int RunQuery(const AuditFlags& f) {
  auto window = ParseWindow(f);
  if (!window.ok()) return Fail(window.status());
  auto records = LoadEvents(f);
  if (!records.ok()) return Fail(records.status());
  auto matches = [&](const json::object& o, std::string_view value, std::string_view field) {
    return value.empty() || Str(o, field) == value;
  };
  size_t n = 0;
  for (const json::object& o : *records) {
    const std::string kind = Str(o, "kind");
    if (f.kind.empty() ? !audit::IsEventKind(kind) : kind != f.kind) continue;
    if (!window->Contains(o) || !matches(o, f.workload, "workload") || !matches(o, f.tee, "tee") ||
        !matches(o, f.resource, "resource")) {
      continue;
    }
    if (!f.outcome.empty() && Outcome(o) != f.outcome) continue;
    std::cout << json::serialize(o) << "\n";
    ++n;
  }
  std::cerr << fmt::format("audit query: {} record(s)\n", n);
  return 0;
}

std::string Html(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// A titled table, rendered as aligned text and as HTML.
struct Table {
  std::string title;
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;

  std::string Text() const {
    std::vector<size_t> width(header.size());
    for (size_t i = 0; i < header.size(); ++i) width[i] = header[i].size();
    for (const auto& r : rows) {
      for (size_t i = 0; i < r.size() && i < width.size(); ++i) {
        width[i] = std::max(width[i], r[i].size());
      }
    }
    auto line = [&](const std::vector<std::string>& cells) {
      std::string out = " ";
      for (size_t i = 0; i < cells.size(); ++i) {
        out += fmt::format(" {:<{}}", cells[i], width[i]);
      }
      while (!out.empty() && out.back() == ' ') out.pop_back();
      return out + "\n";
    };
    std::string out = fmt::format("{} ({})\n", title, rows.size());
    if (rows.empty()) return out + "  (none)\n";
    out += line(header);
    for (const auto& r : rows) out += line(r);
    return out;
  }

  std::string ToHtml() const {
    std::string out = fmt::format("<h2>{} ({})</h2>\n", Html(title), rows.size());
    if (rows.empty()) return out + "<p>(none)</p>\n";
    out += "<table>\n<tr>";
    for (const auto& h : header) out += "<th>" + Html(h) + "</th>";
    out += "</tr>\n";
    for (const auto& r : rows) {
      out += "<tr>";
      for (const auto& c : r) out += "<td>" + Html(c) + "</td>";
      out += "</tr>\n";
    }
    return out + "</table>\n";
  }
};

int RunReport(const AuditFlags& f) {
  auto window = ParseWindow(f);
  if (!window.ok()) return Fail(window.status());
  auto records = LoadEvents(f);
  if (!records.ok()) return Fail(records.status());

  Table bursts{"Burst decisions (wanted replica count changed)",
               {"time", "workload", "replicas", "reason", "tee", "region", "profile", "gate"},
               {}};
  Table attest{
      "Attestations by TEE, verdict and TCB status", {"tee", "verdict", "tcb status", "count"}, {}};
  Table releases{"Secret releases by resource", {"resource", "releases"}, {}};
  Table refusals{"Refusals by resource and reason", {"resource", "reason", "refusals"}, {}};
  Table changes{"Policy and configuration changes",
                {"time", "action", "target", "who (subject/role)", "old digest", "new digest"},
                {}};
  std::map<std::tuple<std::string, std::string, std::string>, size_t> attest_count;
  std::map<std::string, size_t> release_count;
  std::map<std::pair<std::string, std::string>, size_t> refusal_count;
  int64_t first_seq = 0, last_seq = 0;
  size_t events = 0;
  for (const json::object& o : *records) {
    const std::string kind = Str(o, "kind");
    if (!audit::IsEventKind(kind) || !window->Contains(o)) continue;
    ++events;
    int64_t seq = o.if_contains("seq") && o.at("seq").is_int64() ? o.at("seq").as_int64() : 0;
    if (first_seq == 0) first_seq = seq;
    last_seq = seq;
    if (kind == audit::kBurstDecision) {
      bursts.rows.push_back(
          {Str(o, "time"), Str(o, "workload"),
           fmt::format("{} -> {}", Str(o, "from_replicas"), Str(o, "to_replicas")),
           Str(o, "reason"), Str(o, "tee"), Str(o, "region"), Str(o, "profile"), Str(o, "gate")});
    } else if (kind == audit::kAttestation) {
      std::string tcb = Str(o, "tcb_status");
      ++attest_count[{Str(o, "tee"), Str(o, "verdict"), tcb.empty() ? "-" : tcb}];
    } else if (kind == audit::kRelease) {
      ++release_count[Str(o, "resource")];
    } else if (kind == audit::kRefusal) {
      ++refusal_count[{Str(o, "resource"), Str(o, "reason")}];
    } else if (kind == audit::kAdmin) {
      std::string who = Str(o, "subject");
      if (!Str(o, "role").empty()) who += "/" + Str(o, "role");
      changes.rows.push_back({Str(o, "time"), Str(o, "action"), Str(o, "target"), who,
                              Str(o, "old_digest").substr(0, 19),
                              Str(o, "new_digest").substr(0, 19)});
    }
  }
  for (const auto& [k, n] : attest_count) {
    attest.rows.push_back({std::get<0>(k), std::get<1>(k), std::get<2>(k), std::to_string(n)});
  }
  for (const auto& [k, n] : release_count) releases.rows.push_back({k, std::to_string(n)});
  for (const auto& [k, n] : refusal_count) {
    refusals.rows.push_back({k.first, k.second, std::to_string(n)});
  }
  const std::string range =
      fmt::format("{} .. {}", f.from.empty() ? "(start)" : f.from, f.to.empty() ? "(end)" : f.to);
  const std::string summary = fmt::format(
      "{} events (seq {}..{}, checkpoints not counted) from `{}`; run `ccburst audit verify` on "
      "the same file to check that it is complete and unaltered",
      events, first_seq, last_seq, f.file);
  const std::vector<const Table*> tables{&bursts, &attest, &releases, &refusals, &changes};
  std::cout << "ccburst audit report, " << range << "\n" << summary << "\n\n";
  for (const Table* t : tables) std::cout << t->Text() << "\n";
  if (!f.html.empty()) {
    std::string html =
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>ccburst audit report</title>"
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{border:1px solid #999;padding:2px 8px;text-align:left}th{background:#eee}</style>"
        "</head><body>\n";
    html += fmt::format("<h1>ccburst audit report</h1>\n<p>{}</p>\n<p>{}</p>\n", Html(range),
                        Html(summary));
    for (const Table* t : tables) html += t->ToHtml();
    html += "</body></html>\n";
    if (absl::Status s = WriteFile(f.html, html); !s.ok()) return Fail(s);
    std::cerr << "wrote " << f.html << "\n";
  }
  return 0;
}

int RunExport(const GlobalOptions& g, const AuditFlags& f) {
  std::string token;
  if (!f.admin_token_file.empty()) {
    auto t = core::ReadFile(f.admin_token_file);
    if (!t.ok()) return Fail(t.status());
    token = Trim(*t);
  }
  auto http = Http(g);
  if (!http.ok()) return Fail(http.status());
  agent::AdminClient admin(std::move(*http), token);
  auto exported = admin.ExportAudit();
  if (!exported.ok()) return Fail(exported.status());
  if (f.out.empty()) {
    std::cout << *exported;
    return 0;
  }
  if (absl::Status s = WriteFile(f.out, *exported); !s.ok()) return Fail(s);
  std::cerr << "wrote " << f.out << "\n";
  return 0;
}

int RunPublicKey(const AuditFlags& f) {
  auto key = crypto::PrivateKey::LoadPemFile(f.signing_key);
  if (!key.ok()) return Fail(core::Annotate(key.status(), fmt::format("`{}`", f.signing_key)));
  if (key->type() != crypto::KeyType::kEcP256) {
    return Fail(absl::InvalidArgumentError(
        fmt::format("`{}` is not an EC P-256 key (the audit key signs ES256)", f.signing_key)));
  }
  std::string pem = key->Public().ToPem();
  if (f.out.empty()) {
    std::cout << pem;
    return 0;
  }
  if (absl::Status s = WriteFile(f.out, pem); !s.ok()) return Fail(s);
  std::cerr << "wrote " << f.out << "\n";
  return 0;
}

}  // namespace

std::vector<Subcommand> AuditCommands(const GlobalOptions* global) {
  auto f = std::make_shared<AuditFlags>();
  return {Subcommand{
      "audit", "verify, query, summarise and export the KBS audit trail (docs/audit.md)",
      [f](CLI::App* cmd) {
        cmd->require_subcommand(1);
        f->verify = cmd->add_subcommand(
            "verify", "check an export's hash chain, signed checkpoints and trailer");
        f->verify->add_option("--file", f->file, "the export (JSON Lines)")->required();
        f->verify->add_option("--key", f->key, "the audit public key (PEM)")->required();
        f->query = cmd->add_subcommand("query", "print the records of an export that match");
        f->query->add_option("--file", f->file, "the export (JSON Lines)")->required();
        f->query->add_option("--from", f->from, "records at or after (RFC 3339)");
        f->query->add_option("--to", f->to, "records before (RFC 3339)");
        f->query->add_option("--kind", f->kind,
                             "attestation, release, refusal, admin, burst_decision, checkpoint");
        f->query->add_option("--workload", f->workload, "burst decisions of this workload");
        f->query->add_option("--tee", f->tee, "records of this TEE");
        f->query->add_option("--resource", f->resource, "releases/refusals of this resource");
        f->query->add_option("--outcome", f->outcome,
                             "verdict (success, failure, error), decision (allow, deny) or "
                             "direction (out, in)");
        f->report = cmd->add_subcommand("report", "summarise an export for a time range");
        f->report->add_option("--file", f->file, "the export (JSON Lines)")->required();
        f->report->add_option("--from", f->from, "start (RFC 3339)");
        f->report->add_option("--to", f->to, "end, exclusive (RFC 3339)");
        f->report->add_option("--html", f->html, "also write the report as HTML to this file");
        f->exp = cmd->add_subcommand("export", "fetch the trail from the KBS (GET /kbs/v0/audit)");
        f->exp->add_option("--admin-token-file", f->admin_token_file, "file holding an admin JWT");
        f->exp->add_option("--out", f->out, "write here instead of stdout");
        f->pubkey = cmd->add_subcommand("public-key", "print the audit key's public half (PEM)");
        f->pubkey->add_option("--signing-key", f->signing_key, "the [audit] signing_key file")
            ->required();
        f->pubkey->add_option("--out", f->out, "write here instead of stdout");
      },
      [f, global]() {
        if (*f->verify) return RunVerify(*f);
        if (*f->query) return RunQuery(*f);
        if (*f->report) return RunReport(*f);
        if (*f->exp) return RunExport(*global, *f);
        return RunPublicKey(*f);
      }}};
}

}  // namespace ccburst::apps
