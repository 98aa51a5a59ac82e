// The incident page's static files (api/page/), compiled into the binary by
// api/page/embed.cmake: served at "/", "/page.js" and "/page.css" with no
// file or network access at run time.
#pragma once

#include <span>
#include <string_view>

namespace signpost::api {

struct PageAsset {
    std::string_view path;          // "/", "/page.js", "/page.css"
    std::string_view content_type;  // "text/html; charset=utf-8", ...
    std::string_view body;
};

std::span<const PageAsset> page_assets();

}  // namespace signpost::api
