// Minimal JSON object builder: the PostgreSQL layer turns the result into jsonb,
// so this only has to emit valid JSON text (escaping included).
#pragma once

#include "core/core_guard.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pf {

class JsonObject {
public:
    JsonObject& add(std::string_view key, std::string_view value);
    JsonObject& add(std::string_view key, const char* value) { return add(key, std::string_view(value)); }
    JsonObject& add(std::string_view key, int64_t value);
    JsonObject& add(std::string_view key, double value);
    JsonObject& add(std::string_view key, bool value);
    JsonObject& add_null(std::string_view key);
    JsonObject& add_raw(std::string_view key, std::string_view json);  // already-encoded JSON
    std::string str() const { return body_ + "}"; }

private:
    void key(std::string_view k);
    std::string body_ = "{";
};

// Appends s as a JSON string literal (quotes included).
void append_json_string(std::string& out, std::string_view s);

}  // namespace pf
