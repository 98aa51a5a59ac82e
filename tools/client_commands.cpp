// signpost status / explain / override / drain / release / reload / txt: HTTP calls to
// the API (docs/api.md) and human-readable tables; --json prints the raw reply.
#include "tools/client_commands.hpp"

#include <CLI/CLI.hpp>
#include <curl/curl.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "core/duration.hpp"

namespace signpost::tools {

namespace {

using nlohmann::json;

constexpr const char* default_api = "http://127.0.0.1:8054";

struct ClientState {
    std::string api, token;
    bool json_out = false;
    CLI::App* status = nullptr;
    CLI::App* explain = nullptr;
    CLI::App* override_cmd = nullptr;
    CLI::App* drain = nullptr;
    CLI::App* release = nullptr;
    CLI::App* reload = nullptr;
    CLI::App* txt = nullptr;
    CLI::App* txt_set = nullptr;
    CLI::App* txt_del = nullptr;
    CLI::App* txt_list = nullptr;
    // txt
    std::string txt_name, txt_value, txt_for;
    std::optional<uint32_t> txt_ttl;
    // explain
    std::string name, type = "A", client;
    // override
    std::string target, state, reason, duration;
    // drain / release
    std::string endpoint, service;
    bool undo = false;
};

ClientState& st() {
    static ClientState s;
    return s;
}

void add_common(CLI::App* cmd) {
    auto& s = st();
    cmd->add_option("--api", s.api, "API base URL (default: $SIGNPOST_API, else http://127.0.0.1:8054)");
    cmd->add_option("--token", s.token, "API token for writes and remote reads (default: $SIGNPOST_TOKEN)");
    cmd->add_flag("--json", s.json_out, "Print the API's JSON reply as is");
}

// ---- HTTP ------------------------------------------------------------------

struct Failure {
    int exit_code;
};

std::string base_url() {
    std::string url = st().api;
    if (url.empty())
        if (const char* env = std::getenv("SIGNPOST_API"); env && *env) url = env;
    if (url.empty()) url = default_api;
    if (url.find("://") == std::string::npos) url = "http://" + url;
    while (!url.empty() && url.back() == '/') url.pop_back();
    return url;
}

std::string token() {
    if (!st().token.empty()) return st().token;
    const char* env = std::getenv("SIGNPOST_TOKEN");
    return env ? env : "";
}

std::size_t append_body(char* p, std::size_t size, std::size_t n, void* out) {
    static_cast<std::string*>(out)->append(p, size * n);
    return size * n;
}

std::string escape(const std::string& s) {
    std::string out;
    if (char* e = curl_easy_escape(nullptr, s.c_str(), static_cast<int>(s.size()))) {
        out = e;
        curl_free(e);
    }
    return out;
}

// The reply body on 2xx. Prints the error and throws Failure otherwise.
std::string call(const std::string& method, const std::string& path, const json* body = nullptr) {
    const std::string base = base_url();
    const std::string url = base + path;
    CURL* c = curl_easy_init();
    if (!c) {
        std::cerr << "signpost: cannot initialise libcurl\n";
        throw Failure{2};
    }
    std::string reply, payload;
    char errbuf[CURL_ERROR_SIZE] = {0};
    curl_slist* headers = nullptr;
    auto tok = token();
    std::string auth = "Authorization: Bearer " + tok;
    if (!tok.empty()) headers = curl_slist_append(headers, auth.c_str());
    headers = curl_slist_append(headers, "Accept: application/json");
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    if (method == "POST") {
        payload = body ? body->dump() : "";
        headers = curl_slist_append(headers, "Content-Type: application/json");
        headers = curl_slist_append(headers, "Expect:");  // no 100-continue round trip
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, payload.c_str());
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(payload.size()));
    } else if (method != "GET") {
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c_str());  // DELETE: arguments in the query
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, append_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &reply);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 60000L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "signpost-cli/0.1");
    CURLcode rc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(headers);
    curl_easy_cleanup(c);

    if (rc != CURLE_OK) {
        std::string why = errbuf[0] ? errbuf : curl_easy_strerror(rc);
        std::cerr << "signpost: cannot reach the API at " << base << ": " << why
                  << " (is the server running with an API listener?)\n";
        throw Failure{2};
    }
    if (status >= 400) {
        std::string message;
        try {
            auto j = json::parse(reply);
            if (j.is_object() && j.contains("error") && j["error"].is_string()) message = j["error"].get<std::string>();
        } catch (const json::exception&) {
        }
        if (message.empty()) {
            message = reply;
            while (!message.empty() && (message.back() == '\n' || message.back() == '\r')) message.pop_back();
            if (message.empty()) message = "HTTP " + std::to_string(status);
        }
        std::cerr << "signpost: " << message;
        if (status == 401) std::cerr << " (give --token or set SIGNPOST_TOKEN)";
        std::cerr << '\n';
        throw Failure{1};
    }
    return reply;
}

json parse_reply(const std::string& reply) {
    try {
        return json::parse(reply);
    } catch (const json::exception& e) {
        std::cerr << "signpost: the API at " << base_url() << " answered with something that is not JSON: " << e.what()
                  << '\n';
        throw Failure{1};
    }
}

void print_raw(const std::string& reply) {
    std::cout << reply;
    if (reply.empty() || reply.back() != '\n') std::cout << '\n';
}

// ---- rendering -------------------------------------------------------------

// A field in words: strings as they are, numbers, yes/no, "-" for null or missing.
std::string text(const json& j) {
    if (j.is_null()) return "-";
    if (j.is_string()) return j.get<std::string>().empty() ? "-" : j.get<std::string>();
    if (j.is_boolean()) return j.get<bool>() ? "yes" : "no";
    if (j.is_number_float()) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.1f", j.get<double>());
        return buf;
    }
    return j.dump();
}
std::string field(const json& obj, const char* key) {
    if (!obj.is_object()) return "-";
    auto it = obj.find(key);
    return it == obj.end() ? "-" : text(*it);
}
bool flag(const json& obj, const char* key) {
    if (!obj.is_object()) return false;
    auto it = obj.find(key);
    return it != obj.end() && it->is_boolean() && it->get<bool>();
}

// "2026-11-26T12:00:00Z" → "2026-11-26T12:00:00Z (5m ago)"; anything else unchanged.
std::string with_age(const std::string& when) {
    std::tm tm{};
    int y, mo, d, h, mi, s;
    if (std::sscanf(when.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d", &y, &mo, &d, &h, &mi, &s) != 6) return when;
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = s;
    std::time_t t = timegm(&tm);
    std::time_t now = std::time(nullptr);
    if (t == -1 || now < t) return when;
    auto ago = core::format_duration(core::Millis((now - t) * 1000LL));
    return when + " (" + ago + " ago)";
}
std::string when(const json& obj, const char* key) {
    auto s = field(obj, key);
    return s == "-" ? s : with_age(s);
}

void print_table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows) {
    std::vector<std::size_t> width(header.size());
    for (std::size_t i = 0; i < header.size(); ++i) width[i] = header[i].size();
    for (auto& r : rows)
        for (std::size_t i = 0; i < r.size() && i < width.size(); ++i) width[i] = std::max(width[i], r[i].size());
    auto line = [&](const std::vector<std::string>& cells) {
        std::string out = "  ";
        for (std::size_t i = 0; i < cells.size(); ++i) {
            out += cells[i];
            if (i + 1 < cells.size()) out += std::string(width[i] - cells[i].size() + 2, ' ');
        }
        while (!out.empty() && out.back() == ' ') out.pop_back();
        std::cout << out << '\n';
    };
    line(header);
    for (auto& r : rows) line(r);
}

std::string pools_text(const json& service) {
    std::string out;
    auto it = service.find("pools");
    if (it == service.end() || !it->is_array()) return "-";
    for (auto& p : *it) {
        if (!out.empty()) out += ", ";
        out += field(p, "name") + " " + field(p, "healthy") + "/" + field(p, "endpoints");
        if (p.contains("up") && p["up"].is_boolean() && !p["up"].get<bool>()) out += " down";
    }
    return out.empty() ? "-" : out;
}

void print_services(const json& services) {
    std::cout << "services\n";
    if (!services.is_array() || services.empty()) {
        std::cout << "  (none)\n";
        return;
    }
    std::vector<std::vector<std::string>> rows;
    for (auto& s : services) {
        std::string state = flag(s, "all_down") ? "ALL DOWN" : flag(s, "unstable") ? "unstable" : "ok";
        rows.push_back({field(s, "key"), field(s, "policy"), field(s, "label"), state, pools_text(s), field(s, "ttl"),
                        when(s, "since"), field(s, "reason")});
    }
    print_table({"SERVICE", "POLICY", "ANSWER", "STATE", "POOLS", "TTL", "SINCE", "REASON"}, rows);
}

// Geo services' answers per rule (its number, nearest:<pool>, default); nothing without geo services.
void print_geo_answers(const json& services) {
    std::vector<std::vector<std::string>> rows;
    if (services.is_array())
        for (auto& s : services) {
            auto g = s.is_object() ? s.find("geo_answers") : s.end();
            if (!s.is_object() || g == s.end() || !g->is_array()) continue;
            for (auto& r : *g) rows.push_back({field(s, "key"), field(r, "rule"), field(r, "answers")});
        }
    if (rows.empty()) return;
    std::cout << "\ngeo answers\n";
    print_table({"SERVICE", "RULE", "ANSWERS"}, rows);
}

std::string endpoint_state(const json& e) {
    std::string s = field(e, "state");
    std::vector<std::string> notes;
    if (flag(e, "suspect")) notes.push_back("suspect");
    if (e.contains("confirmed") && !flag(e, "confirmed")) notes.push_back("unconfirmed");
    if (!notes.empty()) {
        s += " (";
        for (std::size_t i = 0; i < notes.size(); ++i) s += (i ? ", " : "") + notes[i];
        s += ")";
    }
    return s;
}

std::string override_text(const json& e) {
    auto it = e.find("override");
    if (it == e.end() || !it->is_object()) return "-";
    auto state = field(*it, "state");
    if (state == "auto" || state == "-") return "-";
    std::string out = state;
    if (auto reason = field(*it, "reason"); reason != "-") out += ": " + reason;
    if (auto expires = field(*it, "expires"); expires != "-") out += " (until " + expires + ")";
    return out;
}

std::string drain_text(const json& e) {
    auto it = e.find("drain");
    if (it == e.end() || !it->is_object()) return "-";
    if (flag(*it, "drained")) return "drained";
    if (flag(*it, "draining")) return "draining since " + field(*it, "since");
    return "-";
}

void print_endpoints(const json& endpoints) {
    std::cout << "endpoints\n";
    if (!endpoints.is_array() || endpoints.empty()) {
        std::cout << "  (none)\n";
        return;
    }
    std::vector<std::vector<std::string>> rows;
    for (auto& e : endpoints) {
        std::string latency = field(e, "latency_ms");
        if (latency != "-") latency += " ms";
        std::string ok_fail = field(e, "consecutive_ok") + "/" + field(e, "consecutive_fail");
        rows.push_back({field(e, "key"), endpoint_state(e), when(e, "since"), field(e, "last_result"), latency, ok_fail,
                        override_text(e), drain_text(e)});
    }
    print_table({"ENDPOINT", "STATE", "SINCE", "LAST RESULT", "LATENCY", "OK/FAIL", "OVERRIDE", "DRAIN"}, rows);
}

// Endpoint hostnames: what each resolves to now and how its last resolution went.
void print_hostnames(const json& endpoints) {
    std::vector<std::vector<std::string>> rows;
    if (endpoints.is_array())
        for (auto& e : endpoints) {
            auto r = e.find("resolution");
            if (!e.is_object() || r == e.end() || !r->is_object()) continue;
            std::string addresses;
            if (auto a = r->find("addresses"); a != r->end() && a->is_array())
                for (auto& x : *a) addresses += (addresses.empty() ? "" : " ") + text(x);
            std::string error = field(*r, "error");
            rows.push_back({field(e, "key"), field(*r, "state"), addresses.empty() ? "-" : addresses,
                            field(*r, "ttl"), when(*r, "next_refresh"), error.empty() ? "-" : error});
        }
    if (rows.empty()) return;
    std::cout << "\nhostnames\n";
    print_table({"ENDPOINT", "RESOLVED", "ADDRESSES", "TTL", "NEXT", "LAST ERROR"}, rows);
}

void print_zones(const json& zones, const json& reload) {
    std::cout << "zones\n";
    if (!zones.is_array() || zones.empty()) {
        std::cout << "  (none)\n";
    } else {
        std::vector<std::vector<std::string>> rows;
        // "CSK 31333, signatures until 2026-12-18T14:26:47Z", or "unsigned".
        auto dnssec = [](const json& z) {
            auto d = z.find("dnssec");
            if (d == z.end() || !d->is_object() || !d->value("signed", false)) return std::string("unsigned");
            std::string out;
            for (auto& k : d->value("keys", json::array())) {
                out += (out.empty() ? "" : ", ") + k.value("role", std::string("?")) + " " + std::to_string(k.value("tag", 0));
                // The state only when it is not the usual one (a key signing, a SEP key's DS wanted).
                std::string state = k.value("state", std::string());
                bool usual = state == "published+signing" + std::string(k.value("flags", 0) == 257 ? "+ds" : "");
                if (!state.empty() && !usual) out += " " + state;
            }
            auto ev = d->find("next_key_event");
            if (ev != d->end() && ev->is_string()) out += ", next key event " + ev->get<std::string>();
            auto exp = d->find("signatures_expire");
            if (exp != d->end() && exp->is_string()) out += ", signatures until " + exp->get<std::string>();
            return out;
        };
        for (auto& z : zones)
            rows.push_back({field(z, "origin"), field(z, "serial"), field(z, "records"), field(z, "services"),
                            dnssec(z), field(z, "file")});
        print_table({"ZONE", "SERIAL", "RECORDS", "SERVICES", "DNSSEC", "FILE"}, rows);
    }
    if (!reload.is_object()) return;
    bool ok = flag(reload, "ok");
    std::cout << "\nlast reload: " << (ok ? "ok" : "FAILED") << " at " << when(reload, "at") << '\n';
    auto errs = reload.find("errors");
    if (errs != reload.end() && errs->is_array())
        for (auto& e : *errs) std::cout << "  " << text(e) << '\n';
}

void print_message(const json& reply) {
    std::string message = field(reply, "message");
    std::cout << (message == "-" ? std::string("ok") : message) << '\n';
    if (!reply.is_object()) return;
    for (auto& [k, v] : reply.items()) {
        if (k == "ok" || k == "message") continue;
        std::cout << "  " << k << ": " << (v.is_structured() ? v.dump() : text(v)) << '\n';
    }
}

// Runtime TXT records, one line each: "NAME  TXT  "VALUE"  ttl 60  expires T".
void print_runtime_txt(const json& records, bool heading) {
    if (!records.is_array() || (heading && records.empty())) return;
    if (heading) std::cout << "\nruntime TXT records\n";
    if (records.empty()) {
        std::cout << "  (none)\n";
        return;
    }
    std::vector<std::vector<std::string>> rows;
    for (auto& r : records)
        rows.push_back({field(r, "name"), "\"" + field(r, "value") + "\"", field(r, "ttl"), field(r, "expires")});
    print_table({"NAME", "VALUE", "TTL", "EXPIRES"}, rows);
}

// Operator commands (replicated in a cluster): one line each, where they came from.
void print_commands(const json& commands) {
    if (!commands.is_array() || commands.empty()) return;
    std::cout << "\ncommands\n";
    std::vector<std::vector<std::string>> rows;
    for (auto& c : commands) {
        std::string kind = field(c, "kind"), what = "-";
        if (kind == "override") what = field(c, "state");
        else if (kind == "drain") what = flag(c, "active") ? "drain" : "undrain";
        else if (kind == "release") what = "release";
        std::string origin = field(c, "origin");
        if (origin.empty()) origin = "-";
        std::string reason = field(c, "reason");
        if (reason.empty()) reason = "-";
        rows.push_back({kind, field(c, "target"), what, flag(c, "in_effect") ? "yes" : "no", origin, when(c, "at"),
                        field(c, "expires"), reason});
    }
    print_table({"KIND", "TARGET", "COMMAND", "IN EFFECT", "ORIGIN", "AT", "EXPIRES", "REASON"}, rows);
}

// ---- commands ----------------------------------------------------------------

int cmd_status() {
    auto reply = call("GET", "/v1/status");
    if (st().json_out) {
        print_raw(reply);
        return 0;
    }
    auto j = parse_reply(reply);
    print_services(j.value("services", json::array()));
    print_geo_answers(j.value("services", json::array()));
    std::cout << '\n';
    print_endpoints(j.value("endpoints", json::array()));
    print_hostnames(j.value("endpoints", json::array()));
    std::cout << '\n';
    print_zones(j.value("zones", json::array()), j.value("reload", json()));
    print_runtime_txt(j.value("runtime_txt", json::array()), true);
    print_commands(j.value("commands", json::array()));
    return 0;
}

int cmd_explain() {
    auto& s = st();
    std::string path = "/v1/explain?name=" + escape(s.name) + "&type=" + escape(s.type);
    if (!s.client.empty()) path += "&client=" + escape(s.client);
    auto reply = call("GET", path);
    if (s.json_out) {
        print_raw(reply);
        return 0;
    }
    auto j = parse_reply(reply);
    std::cout << field(j, "name") << ' ' << field(j, "type");
    if (auto c = field(j, "client"); c != "-") std::cout << " from " << c;
    std::cout << ": " << field(j, "rcode") << '\n';
    if (auto z = field(j, "zone"); z != "-") std::cout << "zone:    " << z << '\n';
    if (auto svc = field(j, "service"); svc != "-") {
        std::cout << "service: " << svc;
        if (auto p = field(j, "policy"); p != "-") std::cout << " (" << p << ")";
        if (auto l = field(j, "label"); l != "-") std::cout << ", answering " << l;
        if (auto t = field(j, "ttl"); t != "-") std::cout << ", ttl " << t;
        std::cout << '\n';
    }
    std::cout << "answer:\n";
    auto answer = j.value("answer", json::array());
    if (!answer.is_array() || answer.empty()) std::cout << "  (none)\n";
    for (auto& rr : answer) std::cout << "  " << text(rr) << '\n';
    auto steps = j.value("path", json::array());
    if (steps.is_array() && !steps.empty()) {
        std::cout << "path:\n";
        int n = 0;
        for (auto& step : steps) std::cout << "  " << ++n << ". " << (step.is_string() ? step.get<std::string>() : step.dump()) << '\n';
    }
    // Whatever else the server tells, shown as is.
    static const std::vector<std::string> known{"name", "type", "client", "rcode", "zone", "service",
                                                "policy", "label", "ttl", "answer", "path"};
    if (j.is_object())
        for (auto& [k, v] : j.items())
            if (std::find(known.begin(), known.end(), k) == known.end())
                std::cout << k << ": " << (v.is_structured() ? v.dump() : text(v)) << '\n';
    return 0;
}

int cmd_txt() {
    auto& s = st();
    if (s.txt_list->parsed()) {
        auto reply = call("GET", "/v1/txt");
        if (s.json_out) {
            print_raw(reply);
            return 0;
        }
        print_runtime_txt(parse_reply(reply).value("records", json::array()), false);
        return 0;
    }
    std::string reply;
    if (s.txt_set->parsed()) {
        json body{{"name", s.txt_name}, {"value", s.txt_value}};
        if (s.txt_ttl) body["ttl"] = *s.txt_ttl;
        if (!s.txt_for.empty()) body["for"] = s.txt_for;
        reply = call("POST", "/v1/txt", &body);
    } else {
        std::string path = "/v1/txt?name=" + escape(s.txt_name);
        if (!s.txt_value.empty()) path += "&value=" + escape(s.txt_value);
        reply = call("DELETE", path);
    }
    if (s.json_out) print_raw(reply);
    else print_message(parse_reply(reply));
    return 0;
}

int post_and_print(const std::string& path, const json& body) {
    auto reply = call("POST", path, &body);
    if (st().json_out) {
        print_raw(reply);
        return 0;
    }
    print_message(parse_reply(reply));
    return 0;
}

int cmd_override() {
    auto& s = st();
    json body{{"target", s.target}, {"state", s.state}};
    if (!s.reason.empty()) body["reason"] = s.reason;
    if (!s.duration.empty()) body["for"] = s.duration;
    return post_and_print("/v1/overrides", body);
}

}  // namespace

void add_client_commands(CLI::App& app) {
    auto& s = st();

    s.status = app.add_subcommand("status", "Show services, endpoints and zones of a running server (via its API)");
    add_common(s.status);

    s.explain = app.add_subcommand("explain", "Show the answer the server gives now for a name, and why");
    s.explain->add_option("NAME", s.name, "Query name, e.g. www.example.com")->required();
    s.explain->add_option("TYPE", s.type, "Query type (default A)");
    s.explain->add_option("--client", s.client, "Client address or subnet the answer is for");
    add_common(s.explain);

    s.override_cmd = app.add_subcommand("override", "Force an endpoint or pool up or down, or back to automatic");
    s.override_cmd->add_option("TARGET", s.target, "Endpoint (example.com/primary/127.0.0.10) or pool (example.com/primary)")
        ->required();
    s.override_cmd->add_option("STATE", s.state, "up, down or auto")->required()->check(CLI::IsMember({"up", "down", "auto"}));
    s.override_cmd->add_option("--reason", s.reason, "Why (shown in status and logs)");
    s.override_cmd->add_option("--for", s.duration, "Expire after this long (e.g. 30m, 1h30m); default: until changed")
        ->check([](const std::string& v) -> std::string {
            auto d = core::parse_duration(v);
            return d && d->count() > 0 ? "" : "'" + v + "' is not a duration (e.g. 90s, 30m, 1h30m)";
        });
    add_common(s.override_cmd);

    s.drain = app.add_subcommand("drain", "Take an endpoint out of every answer (--undo puts it back)");
    s.drain->add_option("ENDPOINT", s.endpoint, "Endpoint, e.g. example.com/primary/127.0.0.10")->required();
    s.drain->add_flag("--undo", s.undo, "Undrain: let the endpoint back into answers");
    add_common(s.drain);

    s.release = app.add_subcommand("release", "Fail a service back to its first pool now (manual failback)");
    s.release->add_option("SERVICE", s.service, "Service, e.g. example.com/site")->required();
    add_common(s.release);

    s.reload = app.add_subcommand("reload", "Reload the server config and the zones (as SIGHUP; a broken reload keeps the running config and exits 1)");
    add_common(s.reload);

    s.txt = app.add_subcommand("txt", "Runtime TXT records, e.g. for ACME DNS-01 (docs/acme.md)");
    s.txt->require_subcommand(1);
    s.txt_set = s.txt->add_subcommand("set", "Add a TXT value at a name its zone allows (runtime_txt); answered at once");
    s.txt_set->add_option("NAME", s.txt_name, "Owner, e.g. _acme-challenge.example.com")->required();
    s.txt_set->add_option("VALUE", s.txt_value, "The TXT value (printable ASCII, at most 255 bytes)")->required();
    s.txt_set->add_option("--ttl", s.txt_ttl, "TTL in seconds (default 60)")->check(CLI::Range(1, 86400));
    s.txt_set->add_option("--for", s.txt_for, "Remove it after this long (default 1h, at most 30d)")
        ->check([](const std::string& v) -> std::string {
            auto d = core::parse_duration(v);
            return d && d->count() > 0 ? "" : "'" + v + "' is not a duration (e.g. 90s, 30m, 1h)";
        });
    add_common(s.txt_set);
    s.txt_del = s.txt->add_subcommand("del", "Delete one TXT value at a name, or all of them without VALUE");
    s.txt_del->add_option("NAME", s.txt_name, "Owner, e.g. _acme-challenge.example.com")->required();
    s.txt_del->add_option("VALUE", s.txt_value, "The value to delete (default: every value at NAME)");
    add_common(s.txt_del);
    s.txt_list = s.txt->add_subcommand("list", "List the runtime TXT records");
    add_common(s.txt_list);
}

// Runs one client command with curl set up: its exit status, 1 (with the reason on
// stderr) when it throws, a Failure's own code.
template <class Body>
int guarded(Body body) {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int rc = 0;
    try {
        rc = body();
    } catch (const Failure& f) {
        rc = f.exit_code;
    } catch (const std::exception& e) {
        std::cerr << "signpost: " << e.what() << '\n';
        rc = 1;
    }
    std::cout.flush();
    curl_global_cleanup();
    return rc;
}

std::optional<int> run_client_commands() {
    auto& s = st();
    CLI::App* chosen = nullptr;
    for (auto* c : {s.status, s.explain, s.override_cmd, s.drain, s.release, s.reload, s.txt})
        if (c && c->parsed()) chosen = c;
    if (!chosen) return std::nullopt;
    return guarded([&] {
        int rc = 0;
        if (chosen == s.status)
            rc = cmd_status();
        else if (chosen == s.explain)
            rc = cmd_explain();
        else if (chosen == s.override_cmd)
            rc = cmd_override();
        else if (chosen == s.drain)
            rc = post_and_print("/v1/drain", json{{"endpoint", s.endpoint}, {"undrain", s.undo}});
        else if (chosen == s.release)
            rc = post_and_print("/v1/release", json{{"service", s.service}});
        else if (chosen == s.txt)
            rc = cmd_txt();
        else
            rc = post_and_print("/v1/reload", json::object());
        return rc;
    });
}

int api_reload(const std::string& api, const std::string& token) {
    auto& s = st();
    s.api = api;
    s.token = token;
    return guarded([] { return post_and_print("/v1/reload", json::object()); });
}

}  // namespace signpost::tools
