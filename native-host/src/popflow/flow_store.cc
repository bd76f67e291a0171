#include "popflow/flow_store.h"

#include <algorithm>
#include <cstdint>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

#include "base/log.h"
#include "base/status_macros.h"
#include "popflow/flow.h"

namespace omnibridge::popflow {

namespace json = boost::json;

namespace {

constexpr std::string_view kRecordSchema = "omnibridge.popflow-record/1";

std::string TimeText(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

absl::Time ParseTimeText(const json::value* v) {
  absl::Time t = absl::UnixEpoch();
  if (v != nullptr && v->is_string()) {
    std::string err;
    absl::ParseTime("%Y-%m-%dT%H:%M:%SZ", std::string(v->get_string()), &t, &err);
  }
  return t;
}

std::string NameOf(const json::value& flow) {
  const json::object* o = flow.if_object();
  const json::value* n = o ? o->if_contains("name") : nullptr;
  return n != nullptr && n->is_string() ? std::string(n->get_string()) : std::string();
}

}  // namespace

// ----------------------------------------------------------------------------------------------

absl::StatusOr<std::vector<std::string>> MemoryFlowStorage::List() {
  std::vector<std::string> keys;
  for (const auto& [k, v] : records_) {
    keys.push_back(k);
  }
  return keys;
}

absl::StatusOr<std::string> MemoryFlowStorage::Read(std::string_view key) {
  auto it = records_.find(std::string(key));
  if (it == records_.end()) {
    return absl::NotFoundError(absl::StrCat("no record ", Av(key)));
  }
  return it->second;
}

absl::Status MemoryFlowStorage::Write(std::string_view key, std::string_view data) {
  records_[std::string(key)] = std::string(data);
  return absl::OkStatus();
}

absl::Status MemoryFlowStorage::Remove(std::string_view key) {
  records_.erase(std::string(key));
  return absl::OkStatus();
}

// ----------------------------------------------------------------------------------------------

json::object FlowSummaryToJson(const FlowSummary& s) {
  json::object o;
  o["name"] = s.name;
  if (!s.description.empty()) {
    o["description"] = s.description;
  }
  json::object trigger{{"event", s.trigger_event}};
  if (!s.trigger_name.empty()) {
    trigger["name"] = s.trigger_name;
  }
  o["trigger"] = std::move(trigger);
  o["enterprise"] = s.enterprise;
  o["readOnly"] = s.enterprise;
  o["hasDraft"] = s.has_draft;
  o["activeVersion"] = s.active_version == 0 ? json::value(nullptr) : json::value(s.active_version);
  json::array versions;
  for (const auto& v : s.versions) {
    versions.push_back(
        json::object{{"version", v.version}, {"publishedAt", TimeText(v.published_at)}});
  }
  o["versions"] = std::move(versions);
  return o;
}

std::string FlowStore::KeyFor(std::string_view name) {
  std::string slug;
  for (char c : name) {
    auto u = static_cast<unsigned char>(c);
    if (absl::ascii_isalnum(u)) {
      slug.push_back(absl::ascii_tolower(u));
    } else if (!slug.empty() && slug.back() != '-') {
      slug.push_back('-');
    }
    if (slug.size() >= 40) {
      break;
    }
  }
  while (!slug.empty() && slug.back() == '-') {
    slug.pop_back();
  }
  // FNV-1a: stable across builds and platforms (std::hash is not).
  uint64_t h = 1469598103934665603ULL;
  for (char c : name) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ULL;
  }
  return absl::StrCat(slug.empty() ? "flow" : slug, "-", absl::StrFormat("%016x", h));
}

absl::StatusOr<std::unique_ptr<FlowStore>> FlowStore::Open(FlowStorage* storage,
                                                           const base::Clock* clock,
                                                           FlowLimits limits,
                                                           FlowStoreLimits store_limits) {
  std::unique_ptr<FlowStore> store(new FlowStore(storage, clock, limits, store_limits));
  OMNI_ASSIGN_OR_RETURN(std::vector<std::string> keys, storage->List());
  for (const std::string& key : keys) {
    auto text = storage->Read(key);
    if (!text.ok()) {
      store->load_errors_.push_back(absl::StrCat(key, ": ", text.status().message()));
      continue;
    }
    // A record holds up to max_versions flows, each bounded by max_json_bytes.
    auto parsed = ParseJsonBounded(*text, limits.max_json_bytes * (store_limits.max_versions + 2),
                                   limits.max_json_depth + 4);
    const json::object* o = parsed.ok() ? parsed->if_object() : nullptr;
    const json::value* schema = o ? o->if_contains("schema") : nullptr;
    if (o == nullptr || schema == nullptr || !schema->is_string() ||
        schema->get_string() != kRecordSchema) {
      store->load_errors_.push_back(absl::StrCat(key, ": not a flow record"));
      continue;
    }
    Record record;
    const json::value* name = o->if_contains("name");
    if (name == nullptr || !name->is_string() || name->get_string().empty() ||
        KeyFor(name->get_string()) != key) {
      store->load_errors_.push_back(absl::StrCat(key, ": name missing or not matching the key"));
      continue;
    }
    record.name = std::string(name->get_string());
    if (const json::value* d = o->if_contains("draft"); d != nullptr && d->is_object()) {
      record.draft = d->get_object();
    }
    if (const json::value* a = o->if_contains("active"); a != nullptr && a->is_int64()) {
      record.active = static_cast<int>(a->get_int64());
    }
    if (const json::value* vs = o->if_contains("versions"); vs != nullptr && vs->is_array()) {
      for (const auto& v : vs->get_array()) {
        const json::object* vo = v.if_object();
        const json::value* num = vo ? vo->if_contains("version") : nullptr;
        const json::value* flow = vo ? vo->if_contains("flow") : nullptr;
        if (num == nullptr || !num->is_int64() || flow == nullptr || !flow->is_object()) {
          continue;
        }
        record.versions.push_back(Version{static_cast<int>(num->get_int64()),
                                          ParseTimeText(vo->if_contains("publishedAt")),
                                          flow->get_object(), nullptr});
      }
    }
    if (absl::Status s = store->Compile(record); !s.ok()) {
      // Keep the record (the designer can still open and fix it) but run nothing from it.
      store->load_errors_.push_back(absl::StrCat(key, ": ", s.message()));
      record.active = 0;
    }
    store->records_[record.name] = std::move(record);
  }
  for (const auto& e : store->load_errors_) {
    OMNI_LOG(kWarning, "popflow", "flow store: ", e);
  }
  return store;
}

absl::Status FlowStore::Compile(Record& record) {
  for (Version& v : record.versions) {
    v.compiled = nullptr;
    if (v.version != record.active) {
      continue;
    }
    OMNI_ASSIGN_OR_RETURN(std::shared_ptr<const Flow> loaded, LoadFlow(v.flow, limits_));
    auto flow = std::make_shared<Flow>(*loaded);
    flow->version_ = v.version;
    v.compiled = std::move(flow);
    return absl::OkStatus();
  }
  if (record.active != 0) {
    return absl::DataLossError(absl::StrCat("active version ", record.active, " is missing"));
  }
  return absl::OkStatus();
}

absl::Status FlowStore::Persist(const Record& record) {
  json::object o;
  o["schema"] = kRecordSchema;
  o["name"] = record.name;
  o["draft"] = record.draft ? json::value(*record.draft) : json::value(nullptr);
  o["active"] = record.active == 0 ? json::value(nullptr) : json::value(record.active);
  json::array versions;
  for (const Version& v : record.versions) {
    versions.push_back(json::object{
        {"version", v.version}, {"publishedAt", TimeText(v.published_at)}, {"flow", v.flow}});
  }
  o["versions"] = std::move(versions);
  return storage_->Write(KeyFor(record.name), json::serialize(o));
}

bool FlowStore::IsEnterprise(std::string_view name) const {
  return std::any_of(enterprise_.begin(), enterprise_.end(),
                     [&](const auto& f) { return f->name() == name; });
}

absl::StatusOr<FlowStore::Record*> FlowStore::Mutable(std::string_view name) {
  if (IsEnterprise(name)) {
    return absl::FailedPreconditionError(
        absl::StrCat("flow '", Av(name), "' is managed by your administrator and read-only"));
  }
  auto it = records_.find(std::string(name));
  if (it == records_.end()) {
    return absl::NotFoundError(absl::StrCat("no flow '", Av(name), "'"));
  }
  return &it->second;
}

void FlowStore::SetEnterpriseFlows(const json::array& flows, std::vector<std::string>* errors) {
  enterprise_.clear();
  for (const json::value& v : flows) {
    auto loaded = LoadFlow(v, limits_);
    if (!loaded.ok()) {
      if (errors != nullptr) {
        errors->emplace_back(loaded.status().message());
      }
      continue;
    }
    if (IsEnterprise((*loaded)->name())) {
      if (errors != nullptr) {
        errors->push_back(absl::StrCat("enterprise flow '", (*loaded)->name(), "' listed twice"));
      }
      continue;
    }
    auto flow = std::make_shared<Flow>(**loaded);
    flow->enterprise_ = true;
    enterprise_.push_back(std::move(flow));
  }
}

absl::Status FlowStore::SaveDraft(const json::value& flow, std::vector<Diagnostic>* diagnostics) {
  std::string name = NameOf(flow);
  if (name.empty() || name.size() > limits_.max_name) {
    return absl::InvalidArgumentError("a flow needs a \"name\" of 1 to 100 characters");
  }
  if (json::serialize(flow).size() > limits_.max_json_bytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("flow larger than ", limits_.max_json_bytes, " bytes"));
  }
  if (IsEnterprise(name)) {
    return absl::FailedPreconditionError(
        absl::StrCat("flow '", name, "' is managed by your administrator and read-only"));
  }
  if (!records_.contains(name) && records_.size() >= store_limits_.max_flows) {
    return absl::ResourceExhaustedError(
        absl::StrCat("at most ", store_limits_.max_flows, " flows; delete one first"));
  }
  if (diagnostics != nullptr) {
    (void)LoadFlow(flow, limits_, diagnostics);
  }
  Record updated = records_.contains(name) ? records_[name] : Record{name, {}, 0, {}};
  updated.draft = flow.get_object();
  OMNI_RETURN_IF_ERROR(Persist(updated));
  records_[name] = std::move(updated);
  return absl::OkStatus();
}

absl::StatusOr<int> FlowStore::Publish(std::string_view name,
                                       std::vector<Diagnostic>* diagnostics) {
  OMNI_ASSIGN_OR_RETURN(Record * record, Mutable(name));
  if (!record->draft) {
    return absl::FailedPreconditionError(absl::StrCat("flow '", Av(name), "' has no draft"));
  }
  OMNI_ASSIGN_OR_RETURN(std::shared_ptr<const Flow> loaded,
                        LoadFlow(*record->draft, limits_, diagnostics));
  Record updated = *record;
  int number = updated.versions.empty() ? 1 : updated.versions.back().version + 1;
  updated.versions.push_back(Version{number, clock_->Now(), *updated.draft, nullptr});
  updated.active = number;
  while (updated.versions.size() > store_limits_.max_versions) {
    // Drop the oldest version that is not active (the active one is the newest here).
    updated.versions.erase(updated.versions.begin());
  }
  OMNI_RETURN_IF_ERROR(Compile(updated));
  OMNI_RETURN_IF_ERROR(Persist(updated));
  *record = std::move(updated);
  OMNI_LOG(kInfo, "popflow", "flow '", std::string(name), "' published as v", number);
  return number;
}

absl::StatusOr<int> FlowStore::Deploy(const json::value& flow,
                                      std::vector<Diagnostic>* diagnostics) {
  // Validate before touching the draft, so a failed deploy leaves the stored draft as it was.
  std::vector<Diagnostic> local;
  std::vector<Diagnostic>* out = diagnostics != nullptr ? diagnostics : &local;
  OMNI_RETURN_IF_ERROR(LoadFlow(flow, limits_, out).status());
  OMNI_RETURN_IF_ERROR(SaveDraft(flow, nullptr));
  return Publish(NameOf(flow), nullptr);
}

absl::Status FlowStore::Rollback(std::string_view name, int version) {
  OMNI_ASSIGN_OR_RETURN(Record * record, Mutable(name));
  bool kept = std::any_of(record->versions.begin(), record->versions.end(),
                          [&](const Version& v) { return v.version == version; });
  if (!kept) {
    return absl::NotFoundError(absl::StrCat("flow '", Av(name), "' has no version ", version));
  }
  Record updated = *record;
  updated.active = version;
  OMNI_RETURN_IF_ERROR(Compile(updated));
  OMNI_RETURN_IF_ERROR(Persist(updated));
  *record = std::move(updated);
  OMNI_LOG(kInfo, "popflow", "flow '", std::string(name), "' rolled back to v", version);
  return absl::OkStatus();
}

absl::Status FlowStore::Disable(std::string_view name) {
  OMNI_ASSIGN_OR_RETURN(Record * record, Mutable(name));
  Record updated = *record;
  updated.active = 0;
  OMNI_RETURN_IF_ERROR(Compile(updated));
  OMNI_RETURN_IF_ERROR(Persist(updated));
  *record = std::move(updated);
  return absl::OkStatus();
}

absl::Status FlowStore::Delete(std::string_view name) {
  OMNI_ASSIGN_OR_RETURN(Record * record, Mutable(name));
  OMNI_RETURN_IF_ERROR(storage_->Remove(KeyFor(record->name)));
  records_.erase(std::string(name));
  return absl::OkStatus();
}

std::vector<FlowSummary> FlowStore::List() const {
  std::vector<FlowSummary> out;
  for (const auto& f : enterprise_) {
    FlowSummary s;
    s.name = f->name();
    s.description = f->description();
    s.trigger_event = f->trigger_event();
    s.trigger_name = f->trigger_name();
    s.enterprise = true;
    s.active_version = 1;
    s.versions.push_back(FlowVersionInfo{1, absl::UnixEpoch()});
    out.push_back(std::move(s));
  }
  for (const auto& [name, record] : records_) {
    if (IsEnterprise(name)) {
      continue;
    }
    FlowSummary s;
    s.name = name;
    // Describe the flow by its active version, else by its draft.
    const json::object* shown = record.draft ? &*record.draft : nullptr;
    for (const Version& v : record.versions) {
      s.versions.push_back(FlowVersionInfo{v.version, v.published_at});
      if (v.version == record.active) {
        shown = &v.flow;
      }
    }
    if (shown != nullptr) {
      if (const json::value* d = shown->if_contains("description"); d && d->is_string()) {
        s.description = std::string(d->get_string());
      }
      const json::value* t = shown->if_contains("trigger");
      const json::object* to = t ? t->if_object() : nullptr;
      if (const json::value* e = to ? to->if_contains("event") : nullptr; e && e->is_string()) {
        s.trigger_event = std::string(e->get_string());
      }
      if (const json::value* n = to ? to->if_contains("name") : nullptr; n && n->is_string()) {
        s.trigger_name = std::string(n->get_string());
      }
    }
    s.has_draft = record.draft.has_value();
    s.active_version = record.active;
    out.push_back(std::move(s));
  }
  return out;
}

absl::StatusOr<json::object> FlowStore::Get(std::string_view name, int version) const {
  for (const auto& f : enterprise_) {
    if (f->name() == name) {
      return f->source();
    }
  }
  auto it = records_.find(std::string(name));
  if (it == records_.end()) {
    return absl::NotFoundError(absl::StrCat("no flow '", Av(name), "'"));
  }
  const Record& record = it->second;
  if (version == -1) {
    version = record.active;
  }
  if (version == 0) {
    if (record.draft) {
      return *record.draft;
    }
    return absl::NotFoundError(absl::StrCat("flow '", Av(name), "' has no draft"));
  }
  for (const Version& v : record.versions) {
    if (v.version == version) {
      return v.flow;
    }
  }
  return absl::NotFoundError(absl::StrCat("flow '", Av(name), "' has no version ", version));
}

std::vector<std::shared_ptr<const Flow>> FlowStore::ActiveFlows() const {
  std::vector<std::shared_ptr<const Flow>> out = enterprise_;
  for (const auto& [name, record] : records_) {
    if (IsEnterprise(name)) {
      continue;  // the administrator's flow wins over a same-named one
    }
    for (const Version& v : record.versions) {
      if (v.version == record.active && v.compiled != nullptr) {
        out.push_back(v.compiled);
      }
    }
  }
  return out;
}

}  // namespace omnibridge::popflow
