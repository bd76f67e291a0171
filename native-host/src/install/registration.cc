#include "install/registration.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "boost/json/parse.hpp"
#include "boost/json/serialize.hpp"
#include "boost/json/value.hpp"

#include "base/status_macros.h"
#include "install/manifest.h"

#if defined(_WIN32)
#ifndef NOMINMAX
#define NOMINMAX
#endif
#include <windows.h>
#else
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

namespace omnibridge::install {
namespace json = boost::json;
namespace fs = std::filesystem;

namespace {

constexpr int kFileMode = 0644;
constexpr size_t kMaxRecordBytes = 1024 * 1024;

std::string RecordPath(Scope scope, const Env& env) {
  return JoinPath(env.os, OmnibridgeDir(scope, env), "registration.json");
}

std::string Parent(const std::string& path) {
  size_t slash = path.find_last_of("/\\");
  return slash == std::string::npos || slash == 0 ? std::string(slash == 0 ? "/" : "")
                                                  : path.substr(0, slash);
}

bool Exists(const std::string& path) {
  std::error_code ec;
  return fs::exists(fs::path(path), ec);
}

// Removes a file, or a directory when it is empty. False when it is not there or not removable.
bool Remove(const std::string& path) {
  std::error_code ec;
  return fs::remove(fs::path(path), ec);
}

absl::StatusOr<std::string> ReadSmallFile(const std::string& path, size_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return absl::NotFoundError(absl::StrCat(path, ": cannot open"));
  std::string data;
  char buf[4096];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    data.append(buf, static_cast<size_t>(in.gcount()));
    if (data.size() > max_bytes)
      return absl::OutOfRangeError(absl::StrCat(path, ": larger than expected"));
  }
  return data;
}

// Creates `dir` and missing parents with `mode`; appends the ones it created, outermost first.
absl::Status MakeDirs(const std::string& dir, int mode, std::vector<std::string>* created) {
  if (dir.empty() || Exists(dir))
    return absl::OkStatus();
  OMNI_RETURN_IF_ERROR(MakeDirs(Parent(dir), mode, created));
  std::error_code ec;
  if (!fs::create_directory(fs::path(dir), ec) && ec)
    return absl::PermissionDeniedError(absl::StrCat("cannot create ", dir, ": ", ec.message()));
#if !defined(_WIN32)
  // Exactly `mode`: the umask must neither widen nor narrow it.
  fs::permissions(fs::path(dir), static_cast<fs::perms>(mode), fs::perm_options::replace, ec);
#endif
  created->push_back(dir);
  return absl::OkStatus();
}

// The record of what install wrote, per scope: {"version":1,"files":[{"path","hostPath",
// "createdDirs"}],"registry":[{"hive","key","data"}]}.
struct Record {
  json::array files;
  json::array registry;
  json::array dirs;  // directories created to hold the record itself
};

Record LoadRecord(const std::string& path) {
  Record record;
  auto text = ReadSmallFile(path, kMaxRecordBytes);
  if (!text.ok())
    return record;
  boost::system::error_code ec;
  json::parse_options options;
  options.max_depth = 8;
  json::value v = json::parse(*text, ec, {}, options);
  if (ec || !v.is_object())
    return record;
  if (auto* f = v.get_object().if_contains("files"); f && f->is_array())
    record.files = f->get_array();
  if (auto* r = v.get_object().if_contains("registry"); r && r->is_array())
    record.registry = r->get_array();
  if (auto* d = v.get_object().if_contains("createdDirs"); d && d->is_array())
    record.dirs = d->get_array();
  return record;
}

std::string StringAt(const json::value& v, const char* key) {
  if (!v.is_object())
    return {};
  const json::value* s = v.get_object().if_contains(key);
  return s && s->is_string() ? std::string(s->get_string()) : std::string();
}

const json::value* FindFile(const Record& record, const std::string& path) {
  for (const json::value& f : record.files) {
    if (StringAt(f, "path") == path)
      return &f;
  }
  return nullptr;
}

// Removes those of `dirs` that are empty, deepest first (a directory one entry created may hold
// another entry's: all are tried once every file is gone). A directory that is not empty (the
// browser or someone else uses it) stays.
void RemoveEmptyDirs(const json::array& dirs, std::vector<std::string>* log) {
  std::vector<std::string> sorted;
  for (const json::value& d : dirs) {
    if (d.is_string())
      sorted.emplace_back(d.get_string());
  }
  std::sort(sorted.begin(), sorted.end(), [](const std::string& a, const std::string& b) {
    return a.size() != b.size() ? a.size() > b.size() : a > b;
  });
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  for (const std::string& dir : sorted) {
    if (Remove(dir) && log)
      log->push_back(absl::StrCat("removed ", dir, "/"));
  }
}

absl::Status SaveRecord(const std::string& path, Record record, int dir_mode) {
  if (record.files.empty() && record.registry.empty()) {
    std::error_code ec;
    fs::remove(fs::path(path), ec);
    if (ec)
      return absl::PermissionDeniedError(absl::StrCat("cannot remove ", path, ": ", ec.message()));
    RemoveEmptyDirs(record.dirs, nullptr);
    return absl::OkStatus();
  }
  std::vector<std::string> created;
  OMNI_RETURN_IF_ERROR(MakeDirs(Parent(path), dir_mode, &created));
  for (const std::string& d : created)
    record.dirs.emplace_back(d);
  json::object obj{{"version", 1},
                   {"files", record.files},
                   {"registry", record.registry},
                   {"createdDirs", record.dirs}};
  return AtomicWriteFile(path, json::serialize(obj) + "\n", kFileMode);
}

// The targets install would write for `options` (paths, registry values), without contents.
absl::StatusOr<Plan> Targets(const RegisterOptions& options, const Env& env) {
  Plan plan;
  plan.scope = options.scope;
  plan.os = env.os;
  plan.host_path = options.host_path;
  plan.record_path = RecordPath(options.scope, env);
  std::vector<const BrowserInfo*> browsers = options.browsers;
  if (browsers.empty()) {
    for (const BrowserInfo& b : Browsers())
      browsers.push_back(&b);
  }
  if (!options.user_data_dir.empty() && options.scope == Scope::kSystem)
    return absl::InvalidArgumentError(
        "--user-data-dir registers for one profile: use it with --user");
  if (env.os == Os::kWindows) {
    if (!options.user_data_dir.empty()) {
      return absl::InvalidArgumentError(
          "on Windows browsers find hosts through the registry only; --user-data-dir does not "
          "apply");
    }
    std::string manifest = WindowsManifestPath(options.scope, env);
    std::string names;
    for (const BrowserInfo* b : browsers) {
      plan.registry.push_back({std::string(WindowsHive(options.scope)), WindowsHostKey(*b), "",
                               manifest, std::string(b->id)});
      absl::StrAppend(&names, names.empty() ? "" : ",",
                      absl::string_view(b->id.data(), b->id.size()));
    }
    plan.files.push_back({manifest, "", names});
    return plan;
  }
  auto add = [&plan](std::string path, std::string_view browser) {
    for (FileWrite& f : plan.files) {
      if (f.path == path) {
        absl::StrAppend(&f.browser, ",", absl::string_view(browser.data(), browser.size()));
        return;
      }
    }
    plan.files.push_back({std::move(path), "", std::string(browser)});
  };
  if (!options.user_data_dir.empty()) {
    add(ManifestFile(env, UserManifestDir(env, options.user_data_dir)), "profile");
    return plan;
  }
  for (const BrowserInfo* b : browsers) {
    if (options.scope == Scope::kUser) {
      for (const std::string& dir : DefaultUserDataDirs(*b, env))
        add(ManifestFile(env, UserManifestDir(env, dir)), b->id);
    } else {
      std::string dir = SystemManifestDir(*b, env);
      if (dir.empty()) {
        plan.notes.push_back(absl::StrCat(
            "skipped ", absl::string_view(b->display.data(), b->display.size()),
            ": no system-wide manifest directory is known for it on this OS; use --user"));
        continue;
      }
      add(ManifestFile(env, dir), b->id);
    }
  }
  return plan;
}

#if defined(_WIN32)
std::wstring Wide(const std::string& s) {
  if (s.empty())
    return {};
  int n = MultiByteToWideChar(CP_UTF8, 0, s.data(), static_cast<int>(s.size()), nullptr, 0);
  std::wstring w(static_cast<size_t>(n), L'\0');
  MultiByteToWideChar(CP_UTF8, 0, s.data(), static_cast<int>(s.size()), w.data(), n);
  return w;
}

HKEY HiveHandle(const std::string& hive) {
  return hive == "HKEY_LOCAL_MACHINE" ? HKEY_LOCAL_MACHINE : HKEY_CURRENT_USER;
}

class WindowsRegistry : public Registry {
 public:
  absl::Status SetString(const RegistryValue& value) override {
    HKEY key;
    LONG rc = RegCreateKeyExW(HiveHandle(value.hive), Wide(value.key).c_str(), 0, nullptr, 0,
                              KEY_SET_VALUE | KEY_WOW64_64KEY, nullptr, &key, nullptr);
    if (rc != ERROR_SUCCESS)
      return absl::PermissionDeniedError(absl::StrCat("cannot open ", value.hive, "\\", value.key));
    std::wstring data = Wide(value.data);
    rc = RegSetValueExW(key, value.value_name.empty() ? nullptr : Wide(value.value_name).c_str(), 0,
                        REG_SZ, reinterpret_cast<const BYTE*>(data.c_str()),
                        static_cast<DWORD>((data.size() + 1) * sizeof(wchar_t)));
    RegCloseKey(key);
    if (rc != ERROR_SUCCESS)
      return absl::PermissionDeniedError(absl::StrCat("cannot set ", value.hive, "\\", value.key));
    return absl::OkStatus();
  }

  absl::Status DeleteKey(const std::string& hive, const std::string& key) override {
    LONG rc = RegDeleteKeyExW(HiveHandle(hive), Wide(key).c_str(), KEY_WOW64_64KEY, 0);
    if (rc != ERROR_SUCCESS && rc != ERROR_FILE_NOT_FOUND)
      return absl::PermissionDeniedError(absl::StrCat("cannot delete ", hive, "\\", key));
    return absl::OkStatus();
  }
};
#endif

}  // namespace

std::unique_ptr<Registry> NativeRegistry() {
#if defined(_WIN32)
  return std::make_unique<WindowsRegistry>();
#else
  return nullptr;
#endif
}

absl::Status AtomicWriteFile(const std::string& path, const std::string& contents, int mode) {
#if defined(_WIN32)
  std::string temp = path + ".tmp";
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    out << contents;
    if (!out.flush())
      return absl::PermissionDeniedError(absl::StrCat("cannot write ", temp));
  }
  if (!MoveFileExA(temp.c_str(), path.c_str(), MOVEFILE_REPLACE_EXISTING)) {
    DeleteFileA(temp.c_str());
    return absl::PermissionDeniedError(absl::StrCat("cannot replace ", path));
  }
  return absl::OkStatus();
#else
  size_t slash = path.find_last_of('/');
  std::string temp = (slash == std::string::npos ? std::string(".") : path.substr(0, slash)) +
                     "/.omnibridge-tmp-XXXXXX";
  int fd = ::mkstemp(temp.data());
  if (fd < 0)
    return absl::PermissionDeniedError(
        absl::StrCat("cannot write in ", Parent(path), ": ", std::strerror(errno)));
  auto fail = [&](const char* what) {
    int err = errno;
    ::close(fd);
    ::unlink(temp.c_str());
    return absl::PermissionDeniedError(absl::StrCat(what, " ", path, ": ", std::strerror(err)));
  };
  // Never group- or world-writable, whatever the umask or the caller asked.
  if (::fchmod(fd, static_cast<mode_t>(mode & ~022)) != 0)
    return fail("cannot set the mode of");
  std::string_view rest = contents;
  while (!rest.empty()) {
    ssize_t n = ::write(fd, rest.data(), rest.size());
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return fail("cannot write");
    rest.remove_prefix(static_cast<size_t>(n));
  }
  if (::fsync(fd) != 0)
    return fail("cannot flush");
  if (::close(fd) != 0) {
    ::unlink(temp.c_str());
    return absl::PermissionDeniedError(absl::StrCat("cannot write ", path));
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(temp.c_str());
    return absl::PermissionDeniedError(
        absl::StrCat("cannot replace ", path, ": ", std::strerror(err)));
  }
  return absl::OkStatus();
#endif
}

absl::StatusOr<Plan> PlanInstall(const RegisterOptions& options, const Env& env) {
  if (options.host_path.empty() || (env.os != Os::kWindows && options.host_path.front() != '/')) {
    return absl::InvalidArgumentError(
        absl::StrCat("the host path must be absolute (got \"", options.host_path, "\")"));
  }
  if (options.extension_ids.empty())
    return absl::FailedPreconditionError("this build knows no extension ID to allow");
  OMNI_ASSIGN_OR_RETURN(Plan plan, Targets(options, env));
  std::string contents = RenderManifest(options.host_path, options.extension_ids);
  for (FileWrite& f : plan.files)
    f.contents = contents;
  return plan;
}

absl::StatusOr<Plan> PlanUninstall(const RegisterOptions& options, const Env& env) {
  OMNI_ASSIGN_OR_RETURN(Plan targets, Targets(options, env));
  Record record = LoadRecord(targets.record_path);
  Plan plan = targets;
  plan.files.clear();
  plan.registry.clear();
  for (FileWrite& f : targets.files) {
    if (FindFile(record, f.path)) {
      plan.files.push_back(std::move(f));
    } else if (Exists(f.path)) {
      plan.notes.push_back(absl::StrCat("left ", f.path,
                                        ": not written by omnibridge-host install (a package's "
                                        "or a hand-made manifest)"));
    }
  }
  for (RegistryValue& r : targets.registry) {
    for (const json::value& have : record.registry) {
      if (StringAt(have, "hive") == r.hive && StringAt(have, "key") == r.key) {
        plan.registry.push_back(std::move(r));
        break;
      }
    }
  }
  return plan;
}

std::vector<std::string> DescribePlan(const Plan& plan, bool install, bool dry_run) {
  std::vector<std::string> lines;
  const char* verb =
      install ? (dry_run ? "would write" : "write") : (dry_run ? "would remove" : "remove");
  for (const FileWrite& f : plan.files)
    lines.push_back(absl::StrCat(verb, " ", f.path, "  (", f.browser, ")"));
  for (const RegistryValue& r : plan.registry) {
    if (install) {
      lines.push_back(absl::StrCat(dry_run ? "would set " : "set ", r.hive, "\\", r.key,
                                   "\\(Default) = ", r.data, "  (", r.browser, ")"));
    } else {
      lines.push_back(absl::StrCat(dry_run ? "would delete " : "delete ", r.hive, "\\", r.key,
                                   "  (", r.browser, ")"));
    }
  }
  if (install || !plan.files.empty() || !plan.registry.empty())
    lines.push_back(absl::StrCat(dry_run ? "would record " : "record ", plan.record_path));
  for (const std::string& n : plan.notes)
    lines.push_back(n);
  return lines;
}

absl::Status ApplyInstall(const Plan& plan, Registry* registry, std::vector<std::string>* log) {
  if (!plan.registry.empty() && registry == nullptr)
    return absl::UnimplementedError("registry keys can only be written by the Windows build");
  const int dir_mode = plan.scope == Scope::kUser ? 0700 : 0755;
  Record record = LoadRecord(plan.record_path);
  absl::Status first_error;
  for (const FileWrite& f : plan.files) {
    std::vector<std::string> created;
    absl::Status s = MakeDirs(Parent(f.path), dir_mode, &created);
    if (s.ok()) {
      auto existing = ReadSmallFile(f.path, 1024 * 1024);
      if (existing.ok() && *existing == f.contents) {
        // Same content: only a mode someone widened is put back.
        std::error_code ec;
        const fs::perms writable = fs::perms::group_write | fs::perms::others_write;
        if ((fs::status(fs::path(f.path), ec).permissions() & writable) != fs::perms::none)
          fs::permissions(fs::path(f.path), writable, fs::perm_options::remove, ec);
        log->push_back(absl::StrCat("unchanged ", f.path));
      } else {
        s = AtomicWriteFile(f.path, f.contents, kFileMode);
        if (s.ok())
          log->push_back(absl::StrCat("wrote ", f.path));
      }
    }
    if (!s.ok()) {
      log->push_back(absl::StrCat("failed ", f.path, ": ", s.message()));
      if (first_error.ok())
        first_error = s;
      continue;
    }
    // Keep the dirs an earlier install created (uninstall removes them when empty).
    json::array dirs;
    if (const json::value* old = FindFile(record, f.path)) {
      if (auto* d = old->get_object().if_contains("createdDirs"); d && d->is_array())
        dirs = d->get_array();
    }
    for (const std::string& d : created)
      dirs.emplace_back(d);
    json::object entry{{"path", f.path}, {"hostPath", plan.host_path}, {"createdDirs", dirs}};
    bool replaced = false;
    for (json::value& have : record.files) {
      if (StringAt(have, "path") == f.path) {
        have = entry;
        replaced = true;
      }
    }
    if (!replaced)
      record.files.emplace_back(entry);
  }
  for (const RegistryValue& r : plan.registry) {
    absl::Status s = registry->SetString(r);
    log->push_back(s.ok() ? absl::StrCat("set ", r.hive, "\\", r.key)
                          : absl::StrCat("failed ", r.hive, "\\", r.key, ": ", s.message()));
    if (!s.ok()) {
      if (first_error.ok())
        first_error = s;
      continue;
    }
    bool known = false;
    for (const json::value& have : record.registry)
      known = known || (StringAt(have, "hive") == r.hive && StringAt(have, "key") == r.key);
    if (!known)
      record.registry.emplace_back(
          json::object{{"hive", r.hive}, {"key", r.key}, {"data", r.data}});
  }
  if (absl::Status s = SaveRecord(plan.record_path, record, dir_mode); !s.ok()) {
    log->push_back(absl::StrCat("failed ", plan.record_path, ": ", s.message()));
    if (first_error.ok())
      first_error = s;
  } else {
    log->push_back(absl::StrCat("recorded in ", plan.record_path));
  }
  return first_error;
}

absl::Status ApplyUninstall(const Plan& plan, Registry* registry, std::vector<std::string>* log) {
  if (!plan.registry.empty() && registry == nullptr)
    return absl::UnimplementedError("registry keys can only be removed by the Windows build");
  const int dir_mode = plan.scope == Scope::kUser ? 0700 : 0755;
  Record record = LoadRecord(plan.record_path);
  absl::Status first_error;
  std::set<std::string> done;
  json::array created_dirs;  // by install, for the files removed now
  for (const FileWrite& f : plan.files) {
    const json::value* entry = FindFile(record, f.path);
    if (!entry)
      continue;
    bool forget = true;
    if (Exists(f.path)) {
      auto text = ReadSmallFile(f.path, 1024 * 1024);
      ManifestCheck check =
          CheckManifest(text.ok() ? *text : std::string(), plan.os != Os::kWindows);
      if (check.name != kHostName || check.path != StringAt(*entry, "hostPath")) {
        log->push_back(absl::StrCat("left ", f.path, ": changed since install (it names ",
                                    check.path.empty() ? "another host" : check.path, ")"));
      } else if (!Remove(f.path)) {
        absl::Status s = absl::PermissionDeniedError(absl::StrCat("cannot remove ", f.path));
        log->push_back(absl::StrCat("failed ", f.path, ": ", s.message()));
        if (first_error.ok())
          first_error = s;
        forget = false;
      } else {
        log->push_back(absl::StrCat("removed ", f.path));
      }
    } else {
      log->push_back(absl::StrCat("already gone ", f.path));
    }
    if (!forget)
      continue;
    // Directories install created, innermost first, while empty.
    if (auto* d = entry->get_object().if_contains("createdDirs"); d && d->is_array()) {
      for (const json::value& dir : d->get_array())
        created_dirs.push_back(dir);
    }
    done.insert(f.path);
  }
  json::array kept;
  for (json::value& f : record.files) {
    if (!done.count(StringAt(f, "path")))
      kept.push_back(std::move(f));
  }
  record.files = std::move(kept);
  for (const RegistryValue& r : plan.registry) {
    absl::Status s = registry->DeleteKey(r.hive, r.key);
    log->push_back(s.ok() ? absl::StrCat("deleted ", r.hive, "\\", r.key)
                          : absl::StrCat("failed ", r.hive, "\\", r.key, ": ", s.message()));
    if (!s.ok()) {
      if (first_error.ok())
        first_error = s;
      continue;
    }
    json::array left;
    for (json::value& have : record.registry) {
      if (!(StringAt(have, "hive") == r.hive && StringAt(have, "key") == r.key))
        left.push_back(std::move(have));
    }
    record.registry = std::move(left);
  }
  if (absl::Status s = SaveRecord(plan.record_path, record, dir_mode); !s.ok() && first_error.ok())
    first_error = s;
  RemoveEmptyDirs(created_dirs, log);  // after the record: it may have shared a parent
  return first_error;
}

}  // namespace omnibridge::install
