// The screens the wizard shows, as plain data, and the interface that shows them. The flow
// (wizard_flow.h) decides what to ask and checks the answers; a WizardUi only draws and reads
// keys. NewtUi (newt_ui.h) is the console implementation; the unit tests script one.
#pragma once

#include <string>
#include <vector>

namespace firstboot::wizard {

// What the person did with a screen.
enum class Nav {
  next,    // OK / Enter / the accept button
  back,    // the Back button: the previous question
  cancel,  // Escape or the Quit button: the flow asks whether to quit
  abort,   // Ctrl-C or SIGINT/SIGTERM: quit at once, nothing written
};

struct Field {
  std::string label;    // "Host name"
  std::string value;    // the default on the way in, the answer on the way out
  bool secret = false;  // typed without echo (shown as *); never kept between screens
};

struct FormScreen {
  std::string id;     // stable name ("hostname", "admin"): tests and docs refer to screens by it
  std::string title;  // window title
  std::string text;   // what is asked and why: a few short lines
  std::string error;  // why the last answer was refused; empty the first time
  std::vector<Field> fields;
  bool can_go_back = true;
};

struct MenuItem {
  std::string key;    // what the flow gets back: "relay"
  std::string label;  // one line shown in the list: "Send-only through your provider's server"
};

struct MenuScreen {
  std::string id;
  std::string title;
  std::string text;
  std::string error;
  std::vector<MenuItem> items;
  std::string selected;  // key: the default on the way in, the choice on the way out
  bool can_go_back = true;
};

// A long text (scrolls) with an accept button, Back and Quit.
struct ReviewScreen {
  std::string id;
  std::string title;
  std::string text;
  std::string accept_label;  // "Apply" or "Write"
};

class WizardUi {
 public:
  virtual ~WizardUi() = default;
  // Fills in screen.fields[i].value. next only when the person confirmed the form.
  virtual Nav form(FormScreen& screen) = 0;
  // Sets screen.selected to the chosen key on next.
  virtual Nav menu(MenuScreen& screen) = 0;
  virtual Nav review(const ReviewScreen& screen) = 0;
  // "Quit without writing anything?": next means yes, quit.
  virtual Nav confirm_quit(const std::string& text) = 0;
};

}  // namespace firstboot::wizard
