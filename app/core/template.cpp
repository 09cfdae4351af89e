// template.cpp: a per-process cache of parsed mustache templates.
#include "app/core/template.h"

#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>

#include "app/core/config.h"

namespace core {

std::vector<Key> TemplateSettings::keys()
{
    return {Key::text("template_dir", "app/templates")};
}

TemplateSettings TemplateSettings::from(const Config& c)
{
    return {c.str("template_dir")};
}

std::string render(const std::string& name, const TemplateData& data)
{
    static std::map<std::string, std::unique_ptr<kainjow::mustache::mustache>> cache;
    auto& tpl = cache[name];
    if (!tpl) {
        const std::string path = settings<TemplateSettings>().dir + "/" + name;
        std::ifstream in(path);
        if (!in)
            throw std::runtime_error("template not found: " + path);
        std::stringstream ss;
        ss << in.rdbuf();
        auto parsed = std::make_unique<kainjow::mustache::mustache>(ss.str());
        if (!parsed->is_valid())
            throw std::runtime_error("template " + path + ": " + parsed->error_message());
        tpl = std::move(parsed);
    }
    return tpl->render(data);
}

}  // namespace core
