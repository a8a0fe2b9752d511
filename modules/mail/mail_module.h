// 9-mail: Postfix, Dovecot, OpenDKIM (RSA + Ed25519 as two chained milters) and OpenDMARC in
// one of three modes (relay, local, full), with the mail data in the user store. See docs/mail.md.
#pragma once

#include <memory>

#include "command.h"
#include "engine/module.h"

namespace firstboot {

std::unique_ptr<Module> make_mail_module();
// Tests answer the config checkers (postfix check, doveconf -n, ...) with their own runner.
std::unique_ptr<Module> make_mail_module(std::shared_ptr<CommandRunner> commands);

}  // namespace firstboot
