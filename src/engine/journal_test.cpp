#include "engine/journal.h"

#include <gtest/gtest.h>

#include <fstream>

#include "engine/error.h"
#include "engine/test_support.h"

namespace firstboot {
namespace {

TEST(Journal, RoundTripsModuleRecords) {
  testing::ScratchDir dir;
  Journal j(dir / "state/journal.json");
  j.load();
  EXPECT_TRUE(j.modules().empty());
  ModuleRecord r;
  r.state = ModuleState::done;
  r.profile_digest = "abc";
  r.duration_ms = 12.5;
  r.steps = {{"render", 3.0}};
  r.checks = {make_check("ssl.certificate.mail.example.com", "ssl")};
  j.put("ssl", r);
  j.save();

  Journal k(dir / "state/journal.json");
  k.load();
  auto got = k.get("ssl");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->state, ModuleState::done);
  EXPECT_EQ(got->profile_digest, "abc");
  ASSERT_EQ(got->steps.size(), 1u);
  EXPECT_EQ(got->steps[0].name, "render");
  ASSERT_EQ(got->checks.size(), 1u);
  EXPECT_EQ(got->checks[0].status, CheckStatus::pass);
}

TEST(Journal, CorruptFileIsAClearError) {
  testing::ScratchDir dir;
  std::ofstream(dir / "journal.json") << "{not json";
  Journal j(dir / "journal.json");
  try {
    j.load();
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("state journal"), std::string::npos);
  }
}

}  // namespace
}  // namespace firstboot
