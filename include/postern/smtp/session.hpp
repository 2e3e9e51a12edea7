// The SMTP server session as a sans-I/O state machine (RFC 5321, with
// PIPELINING RFC 2920, SIZE RFC 1870, 8BITMIME RFC 6152, ENHANCEDSTATUSCODES
// RFC 2034, STARTTLS RFC 3207 and AUTH RFC 4954).
//
// The machine takes command lines and the outcomes of the work it
// requests, appends replies to an output buffer and returns the next
// action. It never reads, writes, blocks or touches a directory or store;
// the session driver does that and reports back.
#pragma once

#include <postern/core/base64.hpp>
#include <postern/core/limits.hpp>
#include <postern/directory/credentials.hpp>
#include <postern/directory/user_name.hpp>
#include <postern/sasl/mechanism.hpp>
#include <postern/smtp/parser.hpp>
#include <postern/smtp/replies.hpp>
#include <postern/smtp/settings.hpp>
#include <postern/trust/policy.hpp>

#include <algorithm>
#include <bitset>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace postern::smtp {

/// The driver's next step after a call into the session.
enum class action {
    none,               ///< flush replies when input runs dry, read on
    start_tls,          ///< flush, discard buffered input, TLS handshake
    verify_password,    ///< check sasl_request().password, then
                        ///< password_verified()
    lookup_credentials, ///< fetch sasl_request().authcid, then
                        ///< credentials_found()
    check_recipient,    ///< does pending_user() exist? recipient_checked()
    receive_data,       ///< flush 354, read the message, data_finished()
    authenticated,      ///< AUTH succeeded: re-evaluate trust, log
    auth_failed,        ///< AUTH failed or was cancelled: log
    close,              ///< flush and close the connection
};

/// The session states. RFC 5321 names no states; these follow the order of
/// commands in section 3.3 and the AUTH exchange of RFC 4954.
enum class state {
    initial,    ///< before EHLO or HELO (again after STARTTLS)
    ready,      ///< after EHLO or HELO, no transaction
    mail,       ///< after MAIL, no recipient accepted yet
    recipients, ///< at least one recipient accepted
    auth,       ///< inside a SASL exchange
    closed,     ///< QUIT or a fatal error
};

/// Outcome of a recipient lookup done by the driver.
enum class lookup_outcome { found, not_found, failed };

/// Outcome of reading and storing the message after DATA.
enum class data_outcome {
    stored,           ///< every copy is durable
    too_big,          ///< over the SIZE limit; nothing stored
    bare_line_ending, ///< bare CR or LF seen; nothing stored
    line_too_long,    ///< a line over 1000 octets; nothing stored
    store_failed,     ///< a local error; nothing promised
};

/// The connection's properties when the session starts.
struct connection_info {
    bool tls_offered = false; ///< STARTTLS may be offered (plain listener
                              ///< with a TLS context)
    bool encrypted = false;   ///< TLS already active (implicit TLS)
    /// A submission listener: MAIL needs a trusted client (RFC 6409,
    /// section 4.3).
    bool auth_required = false;
    std::string client_address;
    /// Channel binding data once TLS is up; owned by the driver.
    const sasl::channel_bindings* bindings = nullptr;
};

/// A sans-I/O SMTP session.
///
/// @tparam Mechanisms a `sasl::mechanism_set`.
template <typename Mechanisms>
class session {
public:
    /// `supplied` has a bit per directory::secret_kind that the directory
    /// can hold; mechanisms needing others are not offered.
    session(const settings& config, connection_info connection,
            std::bitset<8> supplied)
        : config_(config), connection_(std::move(connection)),
          supplied_(supplied)
    {
    }

    /// Appends the 220 greeting (RFC 5321, section 4.2).
    void greet()
    {
        append_reply(output_, 220, "",
                     config_.identity + " ESMTP Postern ready");
    }

    /// Handles one command line (without CRLF), or one line of a SASL
    /// exchange while in the auth state.
    action on_line(std::string_view line)
    {
        if (state_ == state::auth)
            return on_auth_response(line);
        // A line ends only at CRLF (RFC 5321, section 2.3.8). A bare CR or
        // LF inside it would let one line carry a second command that other
        // servers on the path would see, and NUL ends strings in C clients.
        if (line.find_first_of(std::string_view("\r\n\0", 3)) !=
            std::string_view::npos)
            return reject(replies::bad_command_bytes);
        if (line.size() + 2 > command_line_limit &&
            parse_command(line).name != verb::auth)
            return reject(replies::line_too_long);
        return dispatch(parse_command(line));
    }

    /// Handles a line that exceeded the reader's limit; its bytes are gone.
    action on_line_too_long()
    {
        if (state_ == state::auth) {
            end_exchange();
            append_reply(output_, replies::auth_line_too_long);
            return count_auth_failure();
        }
        return reject(replies::line_too_long);
    }

    /// TLS is up after STARTTLS: forget everything learnt from the client
    /// before it (RFC 3207, section 4.2).
    void tls_started(const sasl::channel_bindings* bindings = nullptr)
    {
        connection_.encrypted = true;
        connection_.tls_offered = false;
        connection_.bindings = bindings;
        helo_.clear();
        esmtp_ = false;
        authenticated_user_.reset();
        reset_transaction();
        state_ = state::initial;
    }

    /// Takes the result of a verify_password action. `temporary` means the
    /// directory failed, not the password.
    action password_verified(bool ok, bool temporary = false)
    {
        if (temporary)
            return temporary_auth_failure();
        return on_step(exchange_->verified(ok));
    }

    /// Takes the result of a lookup_credentials action; nullptr for an
    /// unknown user.
    action credentials_found(const directory::credentials* found,
                             bool temporary = false)
    {
        if (temporary)
            return temporary_auth_failure();
        return on_step(exchange_->found(found));
    }

    /// Takes the result of a check_recipient action.
    action recipient_checked(lookup_outcome outcome)
    {
        if (outcome == lookup_outcome::failed) {
            append_reply(output_, replies::recipient_check_failed);
            return action::none;
        }
        if (outcome == lookup_outcome::not_found)
            return reject(replies::user_unknown);
        if (std::find(local_users_.begin(), local_users_.end(),
                      pending_user_) == local_users_.end())
            local_users_.push_back(pending_user_);
        return accept_recipient();
    }

    /// Takes the result of a receive_data action and ends the transaction.
    void data_finished(data_outcome outcome)
    {
        append_reply(output_, data_reply(outcome));
        reset_transaction();
        state_ = state::ready;
    }

    /// Sets what the trust policy decided for this client.
    void set_trust(trust::decision decision) { trust_ = std::move(decision); }

    /// Takes the replies appended so far.
    std::string take_output() { return std::exchange(output_, {}); }
    bool has_output() const noexcept { return !output_.empty(); }

    state current_state() const noexcept { return state_; }
    bool encrypted() const noexcept { return connection_.encrypted; }
    bool esmtp() const noexcept { return esmtp_; }
    const std::string& helo_name() const noexcept { return helo_; }
    const std::optional<std::string>& authenticated_user() const noexcept
    {
        return authenticated_user_;
    }
    const trust::decision& trust() const noexcept { return trust_; }

    /// The SASL step that asked for verify_password or lookup_credentials,
    /// or the last failure; its password is wiped on the next step.
    sasl::step& sasl_request() noexcept { return last_step_; }
    std::string_view mechanism_name() const noexcept { return mechanism_; }
    /// The user name the client gave in the current or last login
    /// attempt, as sent; empty when it gave none.
    const std::string& login_user() const noexcept { return login_user_; }

    const std::string& pending_user() const noexcept { return pending_user_; }
    const std::string& reverse_path() const noexcept { return reverse_path_; }
    /// Local accounts that receive the message, each once.
    const std::vector<std::string>& local_users() const noexcept
    {
        return local_users_;
    }
    /// Non-local recipients for the relay queue.
    const std::vector<std::string>& relay_recipients() const noexcept
    {
        return relay_recipients_;
    }
    /// Every accepted recipient address, in order.
    const std::vector<std::string>& recipients() const noexcept
    {
        return recipients_;
    }
    bool eight_bit() const noexcept { return eight_bit_; }

private:
    // RFC 5321, section 4.5.3.1.10 requires at least 100 recipients;
    // settings::max_recipients may raise it. A client that keeps sending
    // invalid commands is cut off, as Postfix does after 20 errors.
    static constexpr int max_errors = 20;
    static constexpr int max_auth_failures = 5;

    action dispatch(const command& c)
    {
        switch (c.name) {
        case verb::ehlo: return on_hello(c.argument, true);
        case verb::helo: return on_hello(c.argument, false);
        case verb::mail: return on_mail(c.argument);
        case verb::rcpt: return on_rcpt(c.argument);
        case verb::data: return on_data(c.argument);
        case verb::rset: return on_rset(c.argument);
        case verb::noop: return reply_ok(replies::ok);
        case verb::quit: return on_quit();
        case verb::vrfy: return on_vrfy(c.argument);
        case verb::expn: return reject(replies::command_not_implemented);
        case verb::help: return reply_ok(replies::help);
        case verb::starttls: return on_starttls(c.argument);
        case verb::auth: return on_auth(c.argument);
        case verb::unknown: break;
        }
        return reject(replies::command_unrecognized);
    }

    action reply_ok(const reply& r)
    {
        append_reply(output_, r);
        return action::none;
    }

    // A 5xx reply to a client error; too many of them end the session.
    action reject(const reply& r)
    {
        append_reply(output_, r);
        if (++errors_ < max_errors)
            return action::none;
        append_reply(output_, replies::too_many_errors);
        state_ = state::closed;
        return action::close;
    }

    action on_hello(std::string_view argument, bool extended)
    {
        auto name = argument.substr(0, argument.find(' '));
        if (name.empty())
            return reject(extended ? replies::ehlo_syntax
                                   : replies::helo_syntax);

        // RFC 5321, section 4.1.4: EHLO or HELO in the middle of a
        // transaction resets it as RSET would.
        reset_transaction();
        helo_ = sanitize_helo(name);
        esmtp_ = extended;
        state_ = state::ready;

        if (!extended) {
            append_reply(output_, 250, "", config_.identity);
            return action::none;
        }
        append_ehlo_reply();
        return action::none;
    }

    // The EHLO reply has no enhanced status codes (RFC 2034, section 3).
    void append_ehlo_reply()
    {
        std::vector<std::string> lines{
            config_.identity + " greets " + helo_,
            "PIPELINING",
            "SIZE " + std::to_string(config_.max_message_size),
            "8BITMIME",
            "ENHANCEDSTATUSCODES",
        };
        if (connection_.tls_offered)
            lines.emplace_back("STARTTLS");

        auto mechanisms = offered_mechanisms();
        if (!mechanisms.empty()) {
            std::string list;
            for (auto name : mechanisms) {
                list += ' ';
                list += name;
            }
            lines.push_back("AUTH" + list);
            // Outlook Express and old Outlook versions look only for the
            // pre-standard "AUTH=" form of the keyword.
            lines.push_back("AUTH=" + list.substr(1));
        }
        lines.emplace_back("HELP");

        for (std::size_t i = 0; i < lines.size(); ++i) {
            output_ += i + 1 < lines.size() ? "250-" : "250 ";
            output_ += lines[i];
            output_ += "\r\n";
        }
    }

    std::vector<std::string_view> offered_mechanisms() const
    {
        return Mechanisms::offered(config_.auth, connection_.encrypted,
                                   [this](directory::secret_kind kind) {
                                       return supplies(kind);
                                   });
    }

    // RFC 5802, section 6: a client that could bind but chose not to ("y")
    // while the server offers -PLUS was downgraded by an attacker. What is
    // offered now counts, whether or not the client asked for the list.
    bool plus_offered() const
    {
        for (auto name : offered_mechanisms())
            if (name.ends_with("-PLUS"))
                return true;
        return false;
    }

    bool supplies(directory::secret_kind kind) const
    {
        return supplied_.test(static_cast<std::size_t>(kind));
    }

    // The HELO name goes into the Received: header. Keep it to one token
    // of printable characters that cannot close the comment or fold it.
    static std::string sanitize_helo(std::string_view name)
    {
        name = name.substr(0, 255);
        std::string out;
        out.reserve(name.size());
        for (char c : name) {
            bool printable = c > 32 && c < 127 && c != '(' && c != ')' &&
                             c != '\\';
            out += printable ? c : '?';
        }
        return out;
    }

    action on_mail(std::string_view argument)
    {
        if (state_ == state::initial)
            return reject(replies::send_hello_first);
        if (state_ != state::ready)
            return reject(replies::nested_mail);
        if (connection_.auth_required && !trust_.may_relay())
            return reject(replies::auth_required);

        auto parsed = parse_mail_from(argument);
        if (!parsed.value)
            return reject(mail_error_reply(parsed.error));
        if (parsed.value->parameters.size &&
            *parsed.value->parameters.size > config_.max_message_size)
            return reject(replies::message_too_big);

        reverse_path_ = parsed.value->path.address;
        eight_bit_ = parsed.value->parameters.eight_bit;
        state_ = state::mail;
        return reply_ok(replies::sender_ok);
    }

    action on_rcpt(std::string_view argument)
    {
        if (state_ != state::mail && state_ != state::recipients)
            return reject(state_ == state::initial ? replies::send_hello_first
                                                   : replies::need_mail);

        auto parsed = parse_rcpt_to(argument);
        if (!parsed.value)
            return reject(parsed.error == path_error::unsupported_parameter
                              ? replies::unsupported_parameter
                              : replies::bad_recipient_syntax);
        if (recipients_.size() >= config_.max_recipients) {
            append_reply(output_, replies::too_many_recipients);
            return action::none;
        }

        pending_address_ = parsed.value->address;
        if (is_local(parsed.value->domain))
            return check_local(parsed.value->local_part);
        if (!trust_.may_relay())
            return reject(replies::relay_denied);
        relay_recipients_.push_back(pending_address_);
        return accept_recipient();
    }

    static reply mail_error_reply(path_error error)
    {
        switch (error) {
        case path_error::unsupported_parameter:
            return replies::unsupported_parameter;
        case path_error::bad_parameter: return replies::syntax_error;
        case path_error::syntax: break;
        }
        return replies::bad_sender_syntax;
    }

    bool is_local(const std::string& domain) const
    {
        if (domain.empty()) // <Postmaster>
            return true;
        return std::any_of(config_.local_domains.begin(),
                           config_.local_domains.end(),
                           [&](const std::string& local) {
                               return detail::iequals(local, domain);
                           });
    }

    // RFC 5321, section 4.5.1: mail to postmaster must be accepted, so it
    // goes to the Maildir of that name whether or not such an account
    // exists. A quoted local part names the same mailbox as its unquoted
    // form ("alice"@ is alice@, RFC 5321, section 4.1.2).
    action check_local(std::string_view local_part)
    {
        auto user = directory::canonical_user_name(unquote(local_part));
        if (!user)
            return reject(replies::user_unknown);
        pending_user_ = std::move(*user);
        if (pending_user_ == "postmaster")
            return recipient_checked(lookup_outcome::found);
        return action::check_recipient;
    }

    static std::string unquote(std::string_view local_part)
    {
        if (local_part.size() < 2 || local_part.front() != '"')
            return std::string(local_part);
        std::string plain;
        for (std::size_t i = 1; i + 1 < local_part.size(); ++i) {
            if (local_part[i] == '\\')
                ++i;
            plain += local_part[i];
        }
        return plain;
    }

    action accept_recipient()
    {
        recipients_.push_back(std::move(pending_address_));
        pending_address_.clear();
        state_ = state::recipients;
        return reply_ok(replies::recipient_ok);
    }

    action on_data(std::string_view argument)
    {
        if (!argument.empty())
            return reject(replies::no_parameters);
        if (state_ == state::initial)
            return reject(replies::send_hello_first);
        if (state_ == state::ready)
            return reject(replies::need_mail);
        if (state_ == state::mail)
            return reject(replies::need_recipient);

        append_reply(output_, replies::start_data);
        return action::receive_data;
    }

    action on_rset(std::string_view argument)
    {
        if (!argument.empty())
            return reject(replies::no_parameters);
        reset_transaction();
        if (state_ != state::initial)
            state_ = state::ready;
        return reply_ok(replies::reset_ok);
    }

    action on_quit()
    {
        append_reply(output_, 221, "2.0.0",
                     config_.identity + " closing connection");
        state_ = state::closed;
        return action::close;
    }

    // RFC 5321, section 3.5.3: 252 when the server will not verify.
    action on_vrfy(std::string_view argument)
    {
        if (argument.empty())
            return reject(replies::syntax_error);
        return reply_ok(replies::cannot_verify);
    }

    action on_starttls(std::string_view argument)
    {
        if (!argument.empty())
            return reject(replies::no_parameters);
        if (connection_.encrypted)
            return reject(replies::tls_already_active);
        if (!connection_.tls_offered)
            return reject(replies::command_not_implemented);
        append_reply(output_, replies::ready_for_tls);
        return action::start_tls;
    }

    // AUTH mechanism [initial-response] (RFC 4954, section 4).
    action on_auth(std::string_view argument)
    {
        if (state_ == state::initial)
            return reject(replies::send_hello_first);
        if (authenticated_user_)
            return reject(replies::already_authenticated);
        if (state_ != state::ready)
            return reject(replies::auth_not_in_transaction);

        auto space = argument.find(' ');
        auto name = argument.substr(0, space);
        std::optional<std::string_view> initial;
        if (space != std::string_view::npos)
            initial = argument.substr(space + 1);

        if (auto refusal = check_mechanism(name))
            return reject(*refusal);

        sasl::context context{.server_identity = config_.identity,
                              .encrypted = connection_.encrypted,
                              .bindings = connection_.bindings,
                              .plus_advertised = plus_offered(),
                              .allow_ntlmv1 = config_.allow_ntlmv1,
                              .scram_fake_salt_key =
                                  config_.scram_fake_salt_key,
                              .scram_iterations = config_.scram_iterations};
        exchange_ = Mechanisms::create(name, context);
        mechanism_ = exchange_->name();
        login_user_.clear();
        if (!initial)
            return on_step(exchange_->start(std::nullopt));

        // "=" stands for an empty initial response.
        if (*initial == "=")
            return on_step(exchange_->start(std::string_view{}));
        auto decoded = base64_decode(*initial);
        if (!decoded)
            return fail_exchange(replies::auth_bad_base64);
        return on_step(exchange_->start(std::string_view(*decoded)));
    }

    // Returns the refusal for a mechanism that cannot run here, if any.
    std::optional<reply> check_mechanism(std::string_view name) const
    {
        if (name.empty())
            return replies::syntax_error;

        using refusal = typename Mechanisms::refusal;
        auto outcome = Mechanisms::check(
            name, config_.auth, connection_.encrypted,
            [this](directory::secret_kind kind) { return supplies(kind); });
        if (outcome == refusal::unsupported)
            return replies::auth_mechanism_unsupported;
        if (outcome == refusal::needs_tls)
            return replies::auth_encryption_required;
        return std::nullopt;
    }

    action on_auth_response(std::string_view line)
    {
        // RFC 4954, section 4: "*" cancels the exchange with 501.
        if (line == "*")
            return fail_exchange(replies::auth_cancelled);

        auto decoded = base64_decode(line);
        if (!decoded)
            return fail_exchange(replies::auth_bad_base64);

        if (pending_success_)
            return finish_success();
        return on_step(exchange_->respond(*decoded));
    }

    action on_step(sasl::step step)
    {
        last_step_ = std::move(step);
        if (!last_step_.authcid.empty())
            login_user_ = last_step_.authcid;
        switch (last_step_.kind) {
        case sasl::step_kind::challenge:
            send_challenge(last_step_.data);
            return action::none;
        case sasl::step_kind::verify_password:
            return action::verify_password;
        case sasl::step_kind::lookup_credentials:
            return action::lookup_credentials;
        case sasl::step_kind::success:
            return on_success();
        case sasl::step_kind::failure:
            break;
        }
        return fail_exchange(
            last_step_.reason == sasl::failure_reason::malformed
                ? replies::auth_malformed
                : replies::auth_credentials_invalid);
    }

    void send_challenge(std::string_view data)
    {
        state_ = state::auth;
        output_ += "334 ";
        output_ += base64_encode(data);
        output_ += "\r\n";
    }

    // RFC 4954, section 4: final server data goes in a 334 challenge, to
    // which the client sends an empty response before the 235.
    action on_success()
    {
        authenticated_as_ = last_step_.authcid;
        if (!last_step_.data.empty()) {
            pending_success_ = true;
            send_challenge(last_step_.data);
            return action::none;
        }
        return finish_success();
    }

    action finish_success()
    {
        auto user = std::move(authenticated_as_);
        end_exchange();
        authenticated_user_ =
            directory::canonical_user_name(user).value_or(user);
        append_reply(output_, replies::auth_succeeded);
        return action::authenticated;
    }

    action fail_exchange(const reply& r)
    {
        end_exchange();
        append_reply(output_, r);
        return count_auth_failure();
    }

    action temporary_auth_failure()
    {
        end_exchange();
        append_reply(output_, replies::auth_temporary_failure);
        return action::auth_failed;
    }

    // The driver logs every failure, then closes when the state is closed.
    action count_auth_failure()
    {
        if (++auth_failures_ >= max_auth_failures) {
            append_reply(output_, replies::too_many_errors);
            state_ = state::closed;
        }
        return action::auth_failed;
    }

    void end_exchange()
    {
        exchange_.reset();
        last_step_.password.wipe();
        pending_success_ = false;
        authenticated_as_.clear();
        state_ = state::ready;
    }

    static reply data_reply(data_outcome outcome)
    {
        switch (outcome) {
        case data_outcome::stored: return replies::message_accepted;
        case data_outcome::too_big: return replies::message_too_big;
        case data_outcome::bare_line_ending:
            return replies::bare_line_ending;
        case data_outcome::line_too_long: return replies::data_line_too_long;
        case data_outcome::store_failed: break;
        }
        return replies::local_error;
    }

    void reset_transaction()
    {
        reverse_path_.clear();
        recipients_.clear();
        local_users_.clear();
        relay_recipients_.clear();
        pending_user_.clear();
        pending_address_.clear();
        eight_bit_ = false;
    }

    const settings& config_;
    connection_info connection_;
    std::bitset<8> supplied_;
    state state_ = state::initial;
    std::string output_;

    std::string helo_;
    bool esmtp_ = false;
    int errors_ = 0;
    int auth_failures_ = 0;
    trust::decision trust_;

    std::optional<typename Mechanisms::exchange> exchange_;
    std::string_view mechanism_;
    std::string login_user_;
    sasl::step last_step_;
    bool pending_success_ = false;
    std::string authenticated_as_;
    std::optional<std::string> authenticated_user_;

    std::string reverse_path_;
    bool eight_bit_ = false;
    std::vector<std::string> recipients_;
    std::vector<std::string> local_users_;
    std::vector<std::string> relay_recipients_;
    std::string pending_user_;
    std::string pending_address_;
};

} // namespace postern::smtp
