// Typed TOML reading over toml++: the only file that turns toml++ nodes into values
// and diagnostics. Load time only; never on the query path.
#include "zones/toml_reader.hpp"

#include <algorithm>
#include <cctype>
#include <sstream>

#include <toml++/toml.h>

namespace signpost::zones {

namespace {

const toml::node* node_of(const void* p) { return static_cast<const toml::node*>(p); }

std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = char(std::tolower((unsigned char)c));
    return out;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diag = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            std::size_t up = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
            diag = up;
        }
    }
    return row[b.size()];
}

// `line0`: lines of the file before the text toml++ read (a part of a zone file).
core::SourceLocation location(const std::string* file, const toml::source_region& r, uint32_t line0) {
    return {file ? *file : std::string(), r.begin.line ? r.begin.line + line0 : 0, r.begin.column};
}

std::string prefixed(std::string_view ctx, const std::string& message) {
    return ctx.empty() ? message : std::string(ctx) + ": " + message;
}

}  // namespace

// ---- free helpers ----

std::string join(const std::vector<std::string>& items, const char* sep) {
    std::string out;
    for (auto& s : items) {
        if (!out.empty()) out += sep;
        out += s;
    }
    return out;
}

std::string suggestion(std::string_view typed, const std::vector<std::string>& allowed, std::string_view prefix) {
    std::string best;
    std::size_t best_d = typed.size() >= 6 ? 3 : 2;  // at most 2 edits for long words, 1 for short ones
    for (auto& a : allowed) {
        std::size_t d = edit_distance(lower(typed), lower(a));
        if (d < best_d) best_d = d, best = a;
    }
    return best.empty() ? "" : "; did you mean '" + std::string(prefix) + best + "'?";
}

std::string dq(std::string_view s) { return "\"" + std::string(s) + "\""; }

// ---- TomlNode ----

bool TomlNode::is_table() const noexcept { return node_ && node_of(node_)->is_table(); }
bool TomlNode::is_array() const noexcept { return node_ && node_of(node_)->is_array(); }
bool TomlNode::is_string() const noexcept { return node_ && node_of(node_)->is_string(); }
bool TomlNode::is_integer() const noexcept { return node_ && node_of(node_)->is_integer(); }
bool TomlNode::is_boolean() const noexcept { return node_ && node_of(node_)->is_boolean(); }

core::SourceLocation TomlNode::where() const {
    if (!node_) return {file_ ? *file_ : std::string(), 0, 0};
    return location(file_, node_of(node_)->source(), line0_);
}

std::string TomlNode::describe() const {
    if (!node_) return "nothing";
    const toml::node& n = *node_of(node_);
    switch (n.type()) {
        case toml::node_type::string: return "string " + dq(n.as_string()->get());
        case toml::node_type::integer: return "integer " + std::to_string(n.as_integer()->get());
        case toml::node_type::floating_point: {
            std::ostringstream o;
            o << "float " << n.as_floating_point()->get();
            return o.str();
        }
        case toml::node_type::boolean: return std::string("boolean ") + (n.as_boolean()->get() ? "true" : "false");
        case toml::node_type::array: return "an array";
        case toml::node_type::table: return "a table";
        case toml::node_type::date: return "a date";
        case toml::node_type::time: return "a time";
        case toml::node_type::date_time: return "a date-time";
        default: return "nothing";
    }
}

std::optional<std::string> TomlNode::as_string() const {
    if (auto* s = node_ ? node_of(node_)->as_string() : nullptr) return s->get();
    return std::nullopt;
}

std::optional<int64_t> TomlNode::as_integer() const {
    if (auto* i = node_ ? node_of(node_)->as_integer() : nullptr) return i->get();
    return std::nullopt;
}

std::optional<double> TomlNode::as_number() const {
    if (!node_) return std::nullopt;
    if (auto* f = node_of(node_)->as_floating_point()) return f->get();
    if (auto* i = node_of(node_)->as_integer()) return double(i->get());
    return std::nullopt;
}

std::optional<bool> TomlNode::as_boolean() const {
    if (auto* b = node_ ? node_of(node_)->as_boolean() : nullptr) return b->get();
    return std::nullopt;
}

TomlNode TomlNode::get(std::string_view key) const {
    auto* t = node_ ? node_of(node_)->as_table() : nullptr;
    if (!t) return {};
    auto* v = t->get(key);
    return v ? TomlNode(v, file_, line0_) : TomlNode();
}

std::size_t TomlNode::size() const noexcept {
    if (!node_) return 0;
    if (auto* t = node_of(node_)->as_table()) return t->size();
    if (auto* a = node_of(node_)->as_array()) return a->size();
    return 0;
}

std::vector<TomlNode> TomlNode::elements() const {
    std::vector<TomlNode> out;
    if (auto* a = node_ ? node_of(node_)->as_array() : nullptr)
        for (auto& e : *a) out.push_back(TomlNode(&e, file_, line0_));
    return out;
}

std::vector<TomlEntry> TomlNode::entries() const {
    std::vector<TomlEntry> out;
    if (auto* t = node_ ? node_of(node_)->as_table() : nullptr)
        for (auto&& [k, v] : *t) out.push_back({std::string(k.str()), location(file_, k.source(), line0_), TomlNode(&v, file_, line0_)});
    return out;
}

std::vector<TomlEntry> TomlNode::entries_in_file_order() const {
    auto out = entries();
    std::stable_sort(out.begin(), out.end(), [](const TomlEntry& a, const TomlEntry& b) {
        auto &x = a.key_where, &y = b.key_where;
        return x.line != y.line ? x.line < y.line : x.column < y.column;
    });
    return out;
}

// ---- TomlDocument ----

struct TomlDocument::Impl {
    std::string file;
    uint32_t line0 = 0;
    toml::table root;
    bool ok = false;
};

TomlDocument::TomlDocument(std::string_view text, std::string file, core::Diagnostics& diags, uint32_t first_line)
    : impl_(std::make_unique<Impl>()) {
    impl_->file = std::move(file);
    impl_->line0 = first_line > 0 ? first_line - 1 : 0;
    try {
        impl_->root = toml::parse(text, std::string_view(impl_->file));
        impl_->ok = true;
    } catch (const toml::parse_error& e) {
        diags.error(location(&impl_->file, e.source(), impl_->line0), "TOML syntax error: " + std::string(e.description()));
    }
}

TomlDocument::TomlDocument(TomlDocument&&) noexcept = default;
TomlDocument& TomlDocument::operator=(TomlDocument&&) noexcept = default;
TomlDocument::~TomlDocument() = default;

bool TomlDocument::ok() const noexcept { return impl_ && impl_->ok; }
TomlNode TomlDocument::root() const noexcept { return ok() ? TomlNode(&impl_->root, &impl_->file, impl_->line0) : TomlNode(); }
const std::string& TomlDocument::file() const noexcept { return impl_->file; }

void TomlDocument::consume_entries(TomlNode table, const std::function<void(const TomlEntry&)>& visit) {
    if (!table || table.file_ != &impl_->file) return;  // not one of ours
    // The document owns the tree; handles are const only to keep readers from changing it.
    auto* t = const_cast<toml::node*>(node_of(table.node_))->as_table();
    if (!t) return;
    TomlEntry e;
    e.key_where.file = impl_->file;
    for (auto it = t->begin(); it != t->end();) {
        e.key.assign(it->first.str());
        auto src = it->first.source();
        e.key_where.line = src.begin.line ? src.begin.line + impl_->line0 : 0;  // as location() does
        e.key_where.column = src.begin.column;
        e.value = TomlNode(&it->second, &impl_->file, impl_->line0);
        visit(e);
        it = t->erase(it);
    }
}

// ---- TomlReader ----

void TomlReader::error(const core::SourceLocation& at, std::string_view ctx, const std::string& message) {
    d_.error(at, prefixed(ctx, message));
}

void TomlReader::warning(const core::SourceLocation& at, std::string_view ctx, const std::string& message) {
    d_.warning(at, prefixed(ctx, message));
}

void TomlReader::must_be(TomlNode n, std::string_view ctx, std::string_view key, std::string_view want) {
    error(n.where(), ctx, std::string(key) + " must be " + std::string(want) + ", got " + n.describe());
}

void TomlReader::check_keys(TomlNode table, std::string_view ctx, const std::vector<std::string>& allowed,
                            std::string_view prefix) {
    for (auto& e : table.entries()) {
        if (std::find(allowed.begin(), allowed.end(), e.key) != allowed.end()) continue;
        error(e.key_where, ctx,
              "unknown key '" + std::string(prefix) + e.key + "'" + suggestion(e.key, allowed, prefix) +
                  "; allowed: " + join(allowed));
    }
}

TomlNode TomlReader::table(TomlNode n, std::string_view ctx, std::string_view key) {
    if (n.is_table()) return n;
    must_be(n, ctx, key, "a table");
    return {};
}

std::optional<int64_t> TomlReader::integer(TomlNode n, std::string_view ctx, std::string_view key, int64_t lo,
                                           int64_t hi) {
    auto v = n.as_integer();
    if (!v) {
        must_be(n, ctx, key, "an integer");
        return std::nullopt;
    }
    if (*v < lo || *v > hi) {
        error(n.where(), ctx,
              std::string(key) + " must be " + std::to_string(lo) + ".." + std::to_string(hi) + ", got " +
                  std::to_string(*v));
        return std::nullopt;
    }
    return v;
}

std::optional<int64_t> TomlReader::integer(TomlNode n, std::string_view ctx, std::string_view key, int64_t lo,
                                           int64_t hi, std::string_view want) {
    auto v = n.as_integer();
    if (!v || *v < lo || *v > hi) {
        must_be(n, ctx, key, want);
        return std::nullopt;
    }
    return v;
}

std::optional<std::string> TomlReader::string(TomlNode n, std::string_view ctx, std::string_view key,
                                              std::string_view want) {
    if (auto s = n.as_string()) return s;
    must_be(n, ctx, key, want);
    return std::nullopt;
}

std::optional<bool> TomlReader::boolean(TomlNode n, std::string_view ctx, std::string_view key) {
    if (auto b = n.as_boolean()) return b;
    must_be(n, ctx, key, "true or false");
    return std::nullopt;
}

std::optional<std::string> TomlReader::choice(TomlNode n, std::string_view ctx, std::string_view key,
                                              const std::vector<std::string>& allowed) {
    auto s = string(n, ctx, key);
    if (!s) return std::nullopt;
    if (std::find(allowed.begin(), allowed.end(), *s) != allowed.end()) return s;
    error(n.where(), ctx,
          std::string(key) + " must be one of " + join(allowed) + ", got " + dq(*s) + suggestion(*s, allowed));
    return std::nullopt;
}

namespace {
// A duration as written: a string in core::parse_duration's form or whole seconds.
std::optional<core::Millis> duration_of(TomlNode n) {
    if (auto s = n.as_integer()) {
        if (*s >= 0 && *s <= 10'000'000'000LL) return core::Millis(*s * 1000);
        return std::nullopt;
    }
    if (auto s = n.as_string()) return core::parse_duration(*s);
    return std::nullopt;
}
}  // namespace

std::optional<core::Millis> TomlReader::duration(TomlNode n, std::string_view ctx, std::string_view key,
                                                 bool allow_zero) {
    auto v = duration_of(n);
    if (!v) {
        must_be(n, ctx, key, "a duration such as \"1s\", \"200ms\" or \"5m\"");
        return std::nullopt;
    }
    if (!allow_zero && v->count() <= 0) {
        must_be(n, ctx, key, "above zero");
        return std::nullopt;
    }
    return v;
}

std::optional<core::Millis> TomlReader::duration(TomlNode n, std::string_view ctx, std::string_view key,
                                                 core::Millis lo, core::Millis hi, std::string_view want) {
    auto v = duration_of(n);
    if (!v || *v < lo || *v > hi) {
        must_be(n, ctx, key, want);
        return std::nullopt;
    }
    return v;
}

std::optional<std::vector<TomlReader::Text>> TomlReader::strings(TomlNode n, std::string_view ctx,
                                                                 std::string_view key) {
    std::vector<Text> out;
    if (auto s = n.as_string()) {
        out.push_back({*s, n.where()});
        return out;
    }
    if (!n.is_array()) {
        must_be(n, ctx, key, "a string or an array of strings");
        return std::nullopt;
    }
    bool ok = true;
    for (auto& e : n.elements()) {
        if (auto s = e.as_string()) {
            out.push_back({*s, e.where()});
        } else {
            error(e.where(), ctx, std::string(key) + " must contain only strings, got " + e.describe());
            ok = false;
        }
    }
    if (!ok) return std::nullopt;
    return out;
}

std::optional<core::IpAddress> TomlReader::address(TomlNode n, std::string_view ctx, std::string_view key) {
    auto s = n.as_string();
    auto a = s ? core::IpAddress::parse(*s) : std::nullopt;
    if (!a)
        error(n.where(), ctx,
              std::string(key) + ": not an address: expected \"192.0.2.1\" or \"2001:db8::1\", got " + n.describe());
    return a;
}

std::optional<core::IpPrefix> TomlReader::prefix(TomlNode n, std::string_view ctx, std::string_view key) {
    auto s = n.as_string();
    auto p = s ? core::IpPrefix::parse(*s) : std::nullopt;
    if (!p)
        error(n.where(), ctx,
              std::string(key) + ": not a prefix: expected \"192.0.2.0/24\" or \"2001:db8::/32\", got " +
                  n.describe());
    return p;
}

std::optional<std::vector<core::IpPrefix>> TomlReader::prefixes(TomlNode n, std::string_view ctx,
                                                                std::string_view key, std::string_view want) {
    if (!n.is_array()) {
        must_be(n, ctx, key, want);
        return std::nullopt;
    }
    std::vector<core::IpPrefix> out;
    for (auto& e : n.elements())
        if (auto p = prefix(e, ctx, key)) out.push_back(*p);
    return out;
}

}  // namespace signpost::zones
