// template.h: HTML pages from mustache files in template_dir; {{x}} is HTML-escaped by default.
#pragma once
#include <string>

#include <kainjow/mustache.hpp>

#include "app/core/settings.h"

namespace core {

struct TemplateSettings {
    std::string dir;  // template_dir, relative to the working directory
    static std::vector<Key> keys();
    static TemplateSettings from(const Config& c);
};

using TemplateData = kainjow::mustache::data;

// Renders template_dir/<name>; each file is parsed once per process and kept. Throws
// std::runtime_error when the file is missing or not valid mustache.
std::string render(const std::string& name, const TemplateData& data);

}  // namespace core
