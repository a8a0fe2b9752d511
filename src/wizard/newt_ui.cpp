#include "wizard/newt_ui.h"

#include <newt.h>
#include <signal.h>

#include <algorithm>
#include <csignal>
#include <cstring>

#include "engine/error.h"

namespace firstboot::wizard {

namespace {

constexpr int kCtrlC = 3;
constexpr int kTimerMs = 250;
// Bounds the key loop of one screen; each round waits for a key or the timer.
constexpr int kMaxRounds = 1000000;
constexpr int kErrorColors = NEWT_COLORSET_CUSTOM(1);

volatile sig_atomic_t g_signal = 0;
struct sigaction g_saved[3];
const int kSignals[3] = {SIGINT, SIGTERM, SIGHUP};
bool g_catching = false;

void on_signal(int sig) { g_signal = sig; }

void catch_signals() {
  if (g_catching) return;
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  for (int i = 0; i < 3; ++i) sigaction(kSignals[i], &sa, &g_saved[i]);
  g_catching = true;
}

void restore_signals() {
  if (!g_catching) return;
  for (int i = 0; i < 3; ++i) sigaction(kSignals[i], &g_saved[i], nullptr);
  g_catching = false;
}

struct Geometry {
  int width;       // window width
  int inner;       // usable columns inside it
  int max_height;  // window rows available
};

Geometry geometry() {
  int cols = 80, rows = 24;
  newtGetScreenSize(&cols, &rows);
  Geometry g{};
  g.width = std::clamp(cols - 4, 30, 76);
  g.inner = g.width - 2;
  // The banner on the first row, the help line on the last, a border and a shadow.
  g.max_height = std::max(rows - 5, 8);
  return g;
}

std::string joined(const std::vector<std::string>& lines, std::size_t from, std::size_t count) {
  std::string out;
  for (std::size_t i = from; i < lines.size() && i < from + count; ++i)
    out += (i == from ? "" : "\n") + lines[i];
  return out;
}

// A text box of at most max_lines rows; scrolls when the text is longer. Returns its height.
newtComponent text_box(int left, int top, int width, const std::vector<std::string>& lines,
                       int max_lines, int* height) {
  int n = static_cast<int>(lines.size());
  bool scroll = n > max_lines;
  *height = std::max(1, std::min(n, max_lines));
  // newt adds two columns for the scroll bar to the width it is given.
  newtComponent box =
      newtTextbox(left, top, scroll ? width - 2 : width, *height, scroll ? NEWT_FLAG_SCROLL : 0);
  std::string text = joined(lines, 0, lines.size());
  newtTextboxSetText(box, text.c_str());
  return box;
}

struct Buttons {
  newtComponent next = nullptr;
  newtComponent back = nullptr;
  newtComponent quit = nullptr;
};

// A row of compact buttons, right-aligned under the content.
Buttons button_row(newtComponent form, int top, int inner, const std::string& next_label,
                   bool with_back, const std::string& quit_label) {
  std::vector<std::string> labels = {next_label};
  if (with_back) labels.push_back("Back");
  if (!quit_label.empty()) labels.push_back(quit_label);
  int total = 0;
  for (auto& l : labels) total += static_cast<int>(l.size()) + 4 + 2;
  int left = std::max(1, inner - total + 2);
  Buttons b;
  std::size_t i = 0;
  auto add = [&](newtComponent& slot) {
    slot = newtCompactButton(left, top, labels[i].c_str());
    newtFormAddComponent(form, slot);
    left += static_cast<int>(labels[i].size()) + 4 + 2;
    ++i;
  };
  add(b.next);
  if (with_back) add(b.back);
  if (!quit_label.empty()) add(b.quit);
  return b;
}

newtComponent new_form() {
  newtComponent form = newtForm(nullptr, nullptr, 0);
  newtFormAddHotKey(form, NEWT_KEY_ESCAPE);
  newtFormAddHotKey(form, kCtrlC);
  newtFormAddHotKey(form, NEWT_KEY_F12);
  newtFormSetTimer(form, kTimerMs);
  return form;
}

// Waits for one event the caller cares about. Signals turn into a Ctrl-C.
struct Event {
  bool is_key;       // a hot key (Escape, F12, Ctrl-C) rather than a component
  newtComponent co;  // the component that ended the form
  int key;
};

Event next_event(newtComponent form) {
  for (int round = 0; round < kMaxRounds; ++round) {
    if (g_signal) return {true, nullptr, kCtrlC};
    newtExitStruct es{};
    newtFormRun(form, &es);
    switch (es.reason) {
      case newtExitStruct::NEWT_EXIT_TIMER:
      case newtExitStruct::NEWT_EXIT_FDREADY:
        continue;
      case newtExitStruct::NEWT_EXIT_HOTKEY:
        return {true, nullptr, es.u.key};
      case newtExitStruct::NEWT_EXIT_COMPONENT:
        return {false, es.u.co, 0};
      case newtExitStruct::NEWT_EXIT_ERROR:
        return {true, nullptr, kCtrlC};
    }
  }
  return {true, nullptr, kCtrlC};
}

// Adds the explanation and the error above the content; returns the next free row.
int header_rows(newtComponent form, const Geometry& g, const std::string& text,
                const std::string& error, int reserved) {
  int top = 0;
  auto text_lines = wrap_text(text, static_cast<std::size_t>(g.inner));
  std::vector<std::string> error_lines;
  if (!error.empty()) error_lines = wrap_text("Error: " + error, static_cast<std::size_t>(g.inner));
  int room = g.max_height - reserved -
             (error_lines.empty() ? 0 : static_cast<int>(error_lines.size()) + 1);
  if (!text_lines.empty()) {
    int h = 0;
    newtFormAddComponent(form, text_box(1, top, g.inner, text_lines, std::max(room - 1, 1), &h));
    top += h + 1;
  }
  if (!error_lines.empty()) {
    int h = 0;
    newtComponent box =
        text_box(1, top, g.inner, error_lines, static_cast<int>(error_lines.size()), &h);
    newtTextboxSetColors(box, kErrorColors, kErrorColors);
    newtFormAddComponent(form, box);
    top += h + 1;
  }
  return top;
}

// Rows a form needs below its header (the content plus the button row).
int window_height(int content_bottom) { return content_bottom + 1; }

}  // namespace

std::vector<std::string> wrap_text(const std::string& text, std::size_t width) {
  std::vector<std::string> out;
  if (width == 0) return out;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find('\n', start);
    std::string line =
        text.substr(start, end == std::string::npos ? std::string::npos : end - start);
    while (line.size() > width) {
      std::size_t cut = line.rfind(' ', width);
      if (cut == std::string::npos || cut == 0) {
        out.push_back(line.substr(0, width));
        line = line.substr(width);
      } else {
        out.push_back(line.substr(0, cut));
        line = line.substr(cut + 1);
      }
    }
    out.push_back(line);
    if (end == std::string::npos) break;
    start = end + 1;
  }
  while (!out.empty() && out.back().empty()) out.pop_back();
  return out;
}

NewtUi::NewtUi(const std::string& banner) {
  g_signal = 0;
  if (newtInit() != 0) throw Error("cannot start the console UI (is TERM set?)");
  open_ = true;
  catch_signals();
  newtCls();
  newtSetColor(kErrorColors, const_cast<char*>("white"), const_cast<char*>("red"));
  newtDrawRootText(1, 0, banner.c_str());
  newtPushHelpLine(" Tab: next field  Enter: confirm  F12: next screen  Esc: quit  Ctrl-C: abort");
  newtRefresh();
}

NewtUi::~NewtUi() { close(); }

void NewtUi::close() {
  end_progress();
  if (open_) {
    newtPopHelpLine();
    newtFinished();
    open_ = false;
  }
  restore_signals();
}

Nav NewtUi::form(FormScreen& screen) {
  Geometry g = geometry();
  newtComponent form = new_form();
  int n = static_cast<int>(screen.fields.size());
  int top = header_rows(form, g, screen.text, screen.error, n + 2);
  std::size_t label_width = 0;
  for (const auto& f : screen.fields) label_width = std::max(label_width, f.label.size());
  int entry_left = static_cast<int>(label_width) + 3;
  int entry_width = g.inner - entry_left;
  std::vector<newtComponent> entries;
  newtComponent focus = nullptr;
  for (const auto& f : screen.fields) {
    newtFormAddComponent(form, newtLabel(1, top, (f.label + ":").c_str()));
    int flags = NEWT_FLAG_SCROLL | NEWT_FLAG_RETURNEXIT | (f.secret ? NEWT_FLAG_PASSWORD : 0);
    newtComponent e = newtEntry(entry_left, top, f.value.c_str(), entry_width, nullptr, flags);
    newtFormAddComponent(form, e);
    entries.push_back(e);
    if (!focus && f.value.empty()) focus = e;
    ++top;
  }
  ++top;
  Buttons b = button_row(form, top, g.inner, "Next", screen.can_go_back, "Quit");
  newtCenteredWindow(static_cast<unsigned>(g.width), static_cast<unsigned>(window_height(top)),
                     screen.title.c_str());
  if (focus && !screen.error.empty()) newtFormSetCurrent(form, focus);

  Nav nav = Nav::abort;
  for (int round = 0; round < kMaxRounds; ++round) {
    Event ev = next_event(form);
    if (ev.is_key) {
      if (ev.key == NEWT_KEY_ESCAPE)
        nav = Nav::cancel;
      else if (ev.key == NEWT_KEY_F12)
        nav = Nav::next;
      else
        nav = Nav::abort;
      break;
    }
    auto it = std::find(entries.begin(), entries.end(), ev.co);
    if (it != entries.end()) {
      if (it + 1 != entries.end()) {
        newtFormSetCurrent(form, *(it + 1));
        continue;
      }
      nav = Nav::next;
      break;
    }
    if (ev.co == b.next)
      nav = Nav::next;
    else if (ev.co == b.back)
      nav = Nav::back;
    else
      nav = Nav::cancel;
    break;
  }
  for (int i = 0; i < n; ++i) {
    char* value = newtEntryGetValue(entries[static_cast<std::size_t>(i)]);
    screen.fields[static_cast<std::size_t>(i)].value = value ? value : "";
    // newt frees the buffer with the form; a typed password must not linger in freed memory.
    if (value && screen.fields[static_cast<std::size_t>(i)].secret)
      explicit_bzero(value, std::strlen(value));
  }
  newtFormDestroy(form);
  newtPopWindow();
  return nav;
}

Nav NewtUi::menu(MenuScreen& screen) {
  Geometry g = geometry();
  newtComponent form = new_form();
  int items = static_cast<int>(screen.items.size());
  int list_height = std::min(items, std::max(3, g.max_height - 8));
  int top = header_rows(form, g, screen.text, screen.error, list_height + 2);
  newtComponent list = newtListbox(
      1, top, list_height, NEWT_FLAG_RETURNEXIT | (items > list_height ? NEWT_FLAG_SCROLL : 0));
  newtListboxSetWidth(list, g.inner);
  int current = 0;
  for (int i = 0; i < items; ++i) {
    const auto& item = screen.items[static_cast<std::size_t>(i)];
    std::string label = item.label.substr(0, static_cast<std::size_t>(g.inner - 2));
    newtListboxAppendEntry(list, label.c_str(),
                           reinterpret_cast<void*>(static_cast<intptr_t>(i + 1)));
    if (item.key == screen.selected) current = i;
  }
  newtListboxSetCurrent(list, current);
  newtFormAddComponent(form, list);
  top += list_height + 1;
  Buttons b = button_row(form, top, g.inner, "Next", screen.can_go_back, "Quit");
  newtCenteredWindow(static_cast<unsigned>(g.width), static_cast<unsigned>(window_height(top)),
                     screen.title.c_str());
  newtFormSetCurrent(form, list);

  Nav nav = Nav::abort;
  Event ev = next_event(form);
  if (ev.is_key)
    nav = ev.key == NEWT_KEY_ESCAPE ? Nav::cancel : ev.key == NEWT_KEY_F12 ? Nav::next : Nav::abort;
  else if (ev.co == list || ev.co == b.next)
    nav = Nav::next;
  else if (ev.co == b.back)
    nav = Nav::back;
  else
    nav = Nav::cancel;
  if (nav == Nav::next) {
    auto chosen = reinterpret_cast<intptr_t>(newtListboxGetCurrent(list));
    if (chosen >= 1 && chosen <= items)
      screen.selected = screen.items[static_cast<std::size_t>(chosen - 1)].key;
  }
  newtFormDestroy(form);
  newtPopWindow();
  return nav;
}

Nav NewtUi::review(const ReviewScreen& screen) {
  Geometry g = geometry();
  newtComponent form = new_form();
  auto lines = wrap_text(screen.text, static_cast<std::size_t>(g.inner - 2));
  int h = 0;
  newtComponent box = text_box(1, 0, g.inner, lines, g.max_height - 2, &h);
  newtFormAddComponent(form, box);
  int top = h + 1;
  Buttons b = button_row(form, top, g.inner, screen.accept_label, true, "Quit");
  newtCenteredWindow(static_cast<unsigned>(g.width), static_cast<unsigned>(window_height(top)),
                     screen.title.c_str());
  // A long summary gets the focus so the arrows scroll it at once; a short one focuses the
  // accept button.
  newtFormSetCurrent(form, static_cast<int>(lines.size()) > h ? box : b.next);

  Nav nav = Nav::abort;
  Event ev = next_event(form);
  if (ev.is_key)
    nav = ev.key == NEWT_KEY_ESCAPE ? Nav::cancel : ev.key == NEWT_KEY_F12 ? Nav::next : Nav::abort;
  else if (ev.co == b.next)
    nav = Nav::next;
  else if (ev.co == b.back)
    nav = Nav::back;
  else
    nav = Nav::cancel;
  newtFormDestroy(form);
  newtPopWindow();
  return nav;
}

Nav NewtUi::confirm_quit(const std::string& text) {
  newtComponent form = new_form();
  auto lines = wrap_text(text, 44);
  int h = 0;
  newtFormAddComponent(form, text_box(1, 0, 44, lines, 4, &h));
  int top = h + 1;
  newtComponent quit = newtCompactButton(8, top, "Quit");
  newtComponent stay = newtCompactButton(22, top, "Continue");
  newtFormAddComponent(form, quit);
  newtFormAddComponent(form, stay);
  newtCenteredWindow(46, static_cast<unsigned>(top + 1), "Quit?");
  newtFormSetCurrent(form, stay);
  Event ev = next_event(form);
  Nav nav = Nav::back;
  if (ev.is_key)
    nav = ev.key == kCtrlC ? Nav::abort : Nav::back;  // Escape again: stay
  else if (ev.co == quit)
    nav = Nav::next;
  newtFormDestroy(form);
  newtPopWindow();
  return nav;
}

void NewtUi::progress(const std::string& title, const std::string& line) {
  if (!open_) return;
  // Applying must not be half-stopped by a key: signals act normally again from here on.
  restore_signals();
  Geometry g = geometry();
  int rows = g.max_height;
  for (auto& l : wrap_text(line, static_cast<std::size_t>(g.inner))) progress_lines_.push_back(l);
  if (!progress_form_) {
    newtCenteredWindow(static_cast<unsigned>(g.width), static_cast<unsigned>(rows), title.c_str());
    auto form = newtForm(nullptr, nullptr, 0);
    auto text = newtTextbox(1, 0, g.inner, rows, 0);
    newtFormAddComponent(form, text);
    progress_form_ = form;
    progress_text_ = text;
  }
  std::size_t from = progress_lines_.size() > static_cast<std::size_t>(rows)
                         ? progress_lines_.size() - static_cast<std::size_t>(rows)
                         : 0;
  std::string shown = joined(progress_lines_, from, static_cast<std::size_t>(rows));
  newtTextboxSetText(static_cast<newtComponent>(progress_text_), shown.c_str());
  newtDrawForm(static_cast<newtComponent>(progress_form_));
  newtRefresh();
}

void NewtUi::end_progress() {
  if (!progress_form_) return;
  newtFormDestroy(static_cast<newtComponent>(progress_form_));
  newtPopWindow();
  progress_form_ = nullptr;
  progress_text_ = nullptr;
  progress_lines_.clear();
}

void NewtUi::show_report(const std::string& title, const std::string& text) {
  if (!open_) return;
  end_progress();
  Geometry g = geometry();
  newtComponent form = new_form();
  auto lines = wrap_text(text, static_cast<std::size_t>(g.inner - 2));
  int h = 0;
  newtComponent box = text_box(1, 0, g.inner, lines, g.max_height - 2, &h);
  newtFormAddComponent(form, box);
  int top = h + 1;
  newtComponent ok = newtCompactButton(std::max(1, g.inner / 2 - 3), top, "OK");
  newtFormAddComponent(form, ok);
  newtCenteredWindow(static_cast<unsigned>(g.width), static_cast<unsigned>(top + 1), title.c_str());
  newtFormSetCurrent(form, ok);
  next_event(form);
  newtFormDestroy(form);
  newtPopWindow();
}

}  // namespace firstboot::wizard
