// encode.h: an independent application/x-www-form-urlencoded encoder, so that harnesses can check
// that parse_urlencoded gives back exactly what was encoded.
#pragma once
#include <string>

#include "app/core/request.h"

namespace fuzz {

// Everything but unreserved characters as %XX; a space as '+', as browsers send it.
inline std::string url_encode(const std::string& s)
{
    static const char hex[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : s) {
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~') {
            out += static_cast<char>(c);
        } else if (c == ' ') {
            out += '+';
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

inline std::string encode_params(const core::Params& params)
{
    std::string out;
    for (const auto& [k, v] : params)
        out += (out.empty() ? "" : "&") + url_encode(k) + "=" + url_encode(v);
    return out;
}

}  // namespace fuzz
