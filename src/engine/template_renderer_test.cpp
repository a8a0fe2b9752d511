#include "engine/template_renderer.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "engine/error.h"

namespace firstboot {
namespace {

using nlohmann::json;

TEST(TemplateRenderer, RendersValuesListsAndConditionals) {
  auto out = TemplateRenderer::render_text(
      "host = {{host}}\n{{#domains}}domain {{name}}\n{{/domains}}{{#tls}}tls on\n{{/tls}}",
      json{{"host", "mail.example.com"},
           {"domains", {{{"name", "a.example"}}, {{"name", "b.example"}}}},
           {"tls", true}});
  EXPECT_EQ(out, "host = mail.example.com\ndomain a.example\ndomain b.example\ntls on\n");
}

TEST(TemplateRenderer, DoesNotHtmlEscape) {
  EXPECT_EQ(TemplateRenderer::render_text("{{v}}", json{{"v", "a<b>&\"c\""}}), "a<b>&\"c\"");
}

TEST(TemplateRenderer, RefusesNewlineInjection) {
  EXPECT_THROW(TemplateRenderer::render_text("myhostname = {{h}}\n",
                                             json{{"h", "mail.example.com\nrelayhost = evil"}}),
               Error);
  EXPECT_THROW(TemplateRenderer::render_text("x={{h}}", json{{"h", std::string("a\0b", 3)}}),
               Error);
  EXPECT_THROW(TemplateRenderer::render_text("x={{h}}", json{{"h", "a\rb"}}), Error);
}

TEST(TemplateRenderer, RefusesUnescapedInterpolation) {
  EXPECT_THROW(TemplateRenderer::render_text("{{{raw}}}", json{{"raw", "x"}}), Error);
  EXPECT_THROW(TemplateRenderer::render_text("{{&raw}}", json{{"raw", "x"}}), Error);
}

TEST(TemplateRenderer, ReportsTemplateSyntaxErrors) {
  EXPECT_THROW(TemplateRenderer::render_text("{{#open}}never closed", json::object()), Error);
}

TEST(TemplateRenderer, NumbersRenderAsText) {
  EXPECT_EQ(TemplateRenderer::render_text("port {{p}}", json{{"p", 2525}}), "port 2525");
}

}  // namespace
}  // namespace firstboot
