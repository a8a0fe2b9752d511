// The wizard's screens on a console with libnewt (the library behind whiptail): keyboard only,
// fits 80x24 (a serial console), monochrome terminals work. Draws what the flow asks, nothing
// more: every decision is in wizard_flow.
//
// Keys: Tab / Shift-Tab move, Enter confirms a field (the last one confirms the screen), arrows
// choose in lists, F12 confirms a screen, Escape asks whether to quit, Ctrl-C quits at once.
#pragma once

#include <string>
#include <vector>

#include "wizard/wizard_ui.h"

namespace firstboot::wizard {

class NewtUi : public WizardUi {
 public:
  // Takes over the terminal; the destructor (or close()) gives it back. banner: the top line.
  explicit NewtUi(const std::string& banner);
  ~NewtUi() override;
  NewtUi(const NewtUi&) = delete;
  NewtUi& operator=(const NewtUi&) = delete;

  Nav form(FormScreen& screen) override;
  Nav menu(MenuScreen& screen) override;
  Nav review(const ReviewScreen& screen) override;
  Nav confirm_quit(const std::string& text) override;

  // The apply phase: a window showing the last progress lines (drawn at once, no key read).
  void progress(const std::string& title, const std::string& line);
  // A long text (scrolls) until OK, Enter, F12 or Escape.
  void show_report(const std::string& title, const std::string& text);
  // Gives the terminal back now (idempotent).
  void close();

 private:
  void end_progress();

  bool open_ = false;
  void* progress_form_ = nullptr;  // newtComponent, kept while progress lines arrive
  void* progress_text_ = nullptr;
  std::vector<std::string> progress_lines_;
};

// Word-wraps text to width columns (explicit newlines kept, over-long words cut). For tests.
std::vector<std::string> wrap_text(const std::string& text, std::size_t width);

}  // namespace firstboot::wizard
