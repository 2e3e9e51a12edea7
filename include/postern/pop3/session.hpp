// The POP3 server session as a sans-I/O state machine (RFC 1939, with
// CAPA and response codes of RFC 2449, STLS of RFC 2595, AUTH of RFC 5034
// and the [AUTH] and [SYS/TEMP] codes of RFC 3206).
//
// The machine takes command lines and the outcomes of the work it
// requests, appends responses to an output buffer and returns the next
// action. The driver performs the actions: TLS, directory lookups, opening
// and committing the maildrop, and streaming messages.
#pragma once

#include <postern/core/base64.hpp>
#include <postern/directory/credentials.hpp>
#include <postern/directory/password_hash.hpp>
#include <postern/directory/user_name.hpp>
#include <postern/pop3/apop.hpp>
#include <postern/pop3/parser.hpp>
#include <postern/pop3/replies.hpp>
#include <postern/pop3/settings.hpp>
#include <postern/sasl/mechanism.hpp>

#include <bitset>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace postern::pop3 {

/// The in-memory side of an open maildrop, which the session reads and
/// marks; opening, reading and committing it are the driver's blocking
/// work. Message n of the session is messages()[n - 1].
template <typename M>
concept maildrop_listing = requires(M& drop, const M& cdrop, std::size_t i) {
    { cdrop.messages()[i].size } -> std::convertible_to<std::uint64_t>;
    { cdrop.messages()[i].unique_id } -> std::convertible_to<std::string>;
    { cdrop.messages()[i].deleted } -> std::convertible_to<bool>;
    { cdrop.messages().size() } -> std::convertible_to<std::size_t>;
    { cdrop.count() } -> std::convertible_to<std::size_t>;
    { cdrop.total_size() } -> std::convertible_to<std::uint64_t>;
    { drop.mark_deleted(i) } -> std::same_as<bool>;
    { drop.reset() };
    { drop.mark_seen(i) };
};

/// The driver's next step after a call into the session.
enum class action {
    none,               ///< flush when input runs dry, read on
    start_tls,          ///< flush, discard buffered input, TLS handshake
    verify_password,    ///< check request() with the POP3 password rules,
                        ///< then password_verified()
    lookup_credentials, ///< fetch request().authcid, then
                        ///< credentials_found()
    open_maildrop,      ///< lock and list user()'s maildrop, then
                        ///< maildrop_opened() or maildrop_failed()
    send_message,       ///< open message_index(), then message_opened()
                        ///< or message_failed()
    update,             ///< commit deletions (UPDATE state), then
                        ///< update_finished()
    authenticated,      ///< a login succeeded: log
    auth_failed,        ///< a login failed or was cancelled: log
    close,              ///< flush and close the connection
};

/// The states of RFC 1939, section 3, plus the SASL exchange inside
/// AUTHORIZATION.
enum class state { authorization, auth, transaction, update, closed };

/// The kind of login in progress; the POP3 override password applies
/// differently to each.
enum class login_method { none, user_pass, apop, sasl };

/// Outcome of opening the maildrop.
enum class open_outcome { in_use, failed };

struct connection_info {
    bool tls_offered = false; ///< STLS may be offered
    bool encrypted = false;   ///< TLS already active
    /// Channel binding data once TLS is up; owned by the driver.
    const sasl::channel_bindings* bindings = nullptr;
};

/// A sans-I/O POP3 session.
///
/// @tparam Mechanisms a `sasl::mechanism_set`.
/// @tparam Maildrop   a type modelling `maildrop_listing`.
template <typename Mechanisms, maildrop_listing Maildrop>
class session {
public:
    /// `supplied` has a bit per directory::secret_kind that the directory
    /// can hold.
    session(const settings& config, connection_info connection,
            std::bitset<8> supplied)
        : config_(config), connection_(connection), supplied_(supplied)
    {
    }

    /// Appends the greeting. It carries an APOP timestamp only while APOP
    /// is available on this connection (RFC 1939, section 7).
    void greet()
    {
        std::string line = "+OK Postern POP3 server ready";
        if (apop_offered()) {
            timestamp_ = make_apop_timestamp(config_.identity);
            line += ' ';
            line += timestamp_;
        }
        replies::append_line(output_, line);
    }

    /// Handles one command line (without CRLF), or one line of a SASL
    /// exchange in the auth state.
    action on_line(std::string_view line)
    {
        if (state_ == state::auth)
            return on_auth_response(line);
        // A line ends only at CRLF (RFC 1939, section 3). A bare CR or LF
        // inside it would smuggle a second command into a USER name or
        // password, and NUL ends strings in C clients.
        if (line.find_first_of(std::string_view("\r\n\0", 3)) !=
            std::string_view::npos)
            return reject(replies::bad_command_bytes);

        auto c = parse_command(line);
        // RFC 2449, section 4: a command line is at most 255 octets. AUTH
        // may be longer because of its initial response.
        if (line.size() + 2 > command_line_limit && c.name != verb::auth)
            return reject(replies::line_too_long);
        return dispatch(c);
    }

    /// Handles a line that exceeded the reader's limit.
    action on_line_too_long()
    {
        if (state_ == state::auth)
            return fail_login(replies::line_too_long);
        return reject(replies::line_too_long);
    }

    /// TLS is up after STLS. A USER name sent before it came in clear and
    /// may have been injected, so it is forgotten (as RFC 3207, section
    /// 4.2, requires of SMTP).
    void tls_started(const sasl::channel_bindings* bindings = nullptr)
    {
        pending_user_.clear();
        connection_.encrypted = true;
        connection_.tls_offered = false;
        connection_.bindings = bindings;
    }

    /// Takes the result of verify_password.
    action password_verified(bool ok, bool temporary = false)
    {
        if (temporary)
            return temporary_failure();
        if (method_ == login_method::sasl)
            return on_step(exchange_->verified(ok));
        request_.password.wipe();
        if (!ok)
            return fail_login(replies::auth_failed);
        return login_succeeded(request_.authcid);
    }

    /// Takes the result of lookup_credentials; nullptr for an unknown
    /// user.
    action credentials_found(const directory::credentials* found,
                             bool temporary = false)
    {
        if (temporary)
            return temporary_failure();
        if (method_ == login_method::sasl)
            return on_step(exchange_->found(found));
        return check_apop(found);
    }

    /// The maildrop is open and locked.
    void maildrop_opened(Maildrop& drop)
    {
        drop_ = &drop;
        state_ = state::transaction;
        replies::append_line(output_, "+OK " + summary());
    }

    /// The maildrop could not be opened; the session stays in the
    /// AUTHORIZATION state (RFC 1939, section 7).
    action maildrop_failed(open_outcome outcome)
    {
        user_.clear();
        method_ = login_method::none;
        state_ = state::authorization;
        replies::append_line(output_, outcome == open_outcome::in_use
                                          ? replies::in_use
                                          : replies::maildrop_failed);
        return action::none;
    }

    /// The message of a send_message action is open: appends the status
    /// line; the driver then sends the message and the final ".".
    void message_opened()
    {
        const auto& message = drop_->messages()[message_index_];
        if (top_lines_) {
            replies::append_line(output_, replies::top_follows);
            return;
        }
        replies::append_line(output_, "+OK " + std::to_string(message.size) +
                                          " octets");
        drop_->mark_seen(message_index_);
    }

    void message_failed()
    {
        replies::append_line(output_, replies::read_failed);
    }

    /// Takes the result of update (RFC 1939, section 6).
    action update_finished(bool ok)
    {
        state_ = state::closed;
        if (!ok) {
            replies::append_line(output_, replies::update_failed);
            return action::close;
        }
        auto left = messages_left_;
        replies::append_line(output_, "+OK Postern POP3 server signing off (" +
                                          std::to_string(left) +
                                          (left == 1 ? " message" :
                                                       " messages") +
                                          " left)");
        return action::close;
    }

    std::string take_output() { return std::exchange(output_, {}); }
    bool has_output() const noexcept { return !output_.empty(); }

    state current_state() const noexcept { return state_; }
    bool encrypted() const noexcept { return connection_.encrypted; }
    login_method method() const noexcept { return method_; }
    /// The authenticated user (canonical), once logged in.
    const std::string& user() const noexcept { return user_; }
    std::string_view mechanism_name() const noexcept { return mechanism_; }
    /// The user name the client gave in the current or last login
    /// attempt, as sent; empty when it gave none.
    const std::string& login_user() const noexcept { return login_user_; }
    /// The user and password of verify_password, or the user of
    /// lookup_credentials.
    sasl::step& request() noexcept
    {
        return method_ == login_method::sasl ? last_step_ : request_;
    }
    std::size_t message_index() const noexcept { return message_index_; }
    /// For TOP: the number of body lines to send; nullopt for RETR.
    std::optional<std::size_t> top_lines() const noexcept
    {
        return top_lines_;
    }

private:
    // RFC 2449, section 4: 255 octets per command line, CRLF included.
    static constexpr std::size_t command_line_limit = 255;
    static constexpr int max_errors = 20;
    static constexpr int max_auth_failures = 5;

    action dispatch(const command& c)
    {
        switch (c.name) {
        case verb::capa: return on_capa();
        case verb::quit: return on_quit();
        case verb::noop: return in_transaction(&session::on_noop, c);
        case verb::user: return in_authorization(&session::on_user, c);
        case verb::pass: return in_authorization(&session::on_pass, c);
        case verb::apop: return in_authorization(&session::on_apop, c);
        case verb::auth: return in_authorization(&session::on_auth, c);
        case verb::stls: return on_stls(c.argument);
        case verb::stat: return in_transaction(&session::on_stat, c);
        case verb::list: return in_transaction(&session::on_list, c);
        case verb::uidl: return in_transaction(&session::on_uidl, c);
        case verb::retr: return in_transaction(&session::on_retr, c);
        case verb::top: return in_transaction(&session::on_top, c);
        case verb::dele: return in_transaction(&session::on_dele, c);
        case verb::rset: return in_transaction(&session::on_rset, c);
        case verb::unknown: break;
        }
        return reject(replies::unknown_command);
    }

    using handler = action (session::*)(std::string_view);

    action in_authorization(handler h, const command& c)
    {
        if (state_ != state::authorization)
            return reject(replies::wrong_state);
        return (this->*h)(c.argument);
    }

    action in_transaction(handler h, const command& c)
    {
        if (state_ != state::transaction)
            return reject(replies::wrong_state);
        return (this->*h)(c.argument);
    }

    action reject(std::string_view response)
    {
        replies::append_line(output_, response);
        if (++errors_ < max_errors)
            return action::none;
        replies::append_line(output_, replies::too_many_errors);
        state_ = state::closed;
        return action::close;
    }

    action respond(std::string_view response)
    {
        replies::append_line(output_, response);
        return action::none;
    }

    // RFC 2449, section 5: the capabilities available now.
    action on_capa()
    {
        replies::append_line(output_, replies::capability_list);
        replies::append_line(output_, "TOP");
        replies::append_line(output_, "UIDL");
        if (user_pass_offered())
            replies::append_line(output_, "USER");
        auto mechanisms = offered_mechanisms();
        if (!mechanisms.empty()) {
            std::string line = "SASL";
            for (auto name : mechanisms) {
                line += ' ';
                line += name;
            }
            replies::append_line(output_, line);
        }
        if (connection_.tls_offered && state_ == state::authorization)
            replies::append_line(output_, "STLS");
        replies::append_line(output_, "RESP-CODES");
        replies::append_line(output_, "AUTH-RESP-CODE");
        replies::append_line(output_, "PIPELINING");
        replies::append_line(output_, "IMPLEMENTATION Postern");
        replies::append_line(output_, ".");
        return action::none;
    }

    action on_quit()
    {
        // QUIT in TRANSACTION enters UPDATE (RFC 1939, section 6).
        if (state_ == state::transaction) {
            state_ = state::update;
            messages_left_ = drop_->count();
            return action::update;
        }
        replies::append_line(output_, "+OK Postern POP3 server signing off");
        state_ = state::closed;
        return action::close;
    }

    action on_noop(std::string_view argument)
    {
        if (!argument.empty())
            return reject(replies::syntax_error);
        return respond(replies::ok);
    }

    action on_stls(std::string_view argument)
    {
        if (!argument.empty())
            return reject(replies::syntax_error);
        if (state_ != state::authorization)
            return reject(replies::wrong_state);
        if (connection_.encrypted)
            return reject(replies::tls_active);
        if (!connection_.tls_offered)
            return reject(replies::tls_unavailable);
        replies::append_line(output_, replies::begin_tls);
        return action::start_tls;
    }

    bool offered(std::string_view name) const
    {
        return config_.auth.offered(name, connection_.encrypted);
    }

    bool supplies(directory::secret_kind kind) const
    {
        return supplied_.test(static_cast<std::size_t>(kind));
    }

    bool user_pass_offered() const
    {
        return offered(user_pass_name) &&
               supplies(directory::secret_kind::password_verifier);
    }

    bool apop_offered() const
    {
        return offered(apop_name) &&
               supplies(directory::secret_kind::plaintext);
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

    // The refusal for a login that is not available now, if any.
    std::optional<std::string_view> login_refusal(std::string_view name,
                                                  bool offered_now) const
    {
        if (offered_now)
            return std::nullopt;
        if (config_.auth.get(name) == sasl::availability::tls &&
            !connection_.encrypted)
            return replies::plaintext_disallowed;
        return replies::mechanism_unsupported;
    }

    action on_user(std::string_view argument)
    {
        if (auto refusal = login_refusal(user_pass_name, user_pass_offered()))
            return reject(*refusal);
        if (argument.empty())
            return reject(replies::syntax_error);

        // The reply does not depend on whether the user exists, so that
        // USER cannot be used to probe for accounts.
        pending_user_ = std::string(argument);
        return respond(replies::user_accepted);
    }

    // RFC 1939, section 7: the password is the rest of the line, spaces
    // included.
    action on_pass(std::string_view argument)
    {
        if (pending_user_.empty())
            return reject(replies::no_user);
        if (auto refusal = login_refusal(user_pass_name, user_pass_offered()))
            return reject(*refusal);

        method_ = login_method::user_pass;
        request_ = sasl::step{};
        request_.kind = sasl::step_kind::verify_password;
        request_.authcid = std::exchange(pending_user_, {});
        request_.password = secret(argument);
        login_user_ = request_.authcid;
        mechanism_ = user_pass_name;
        return action::verify_password;
    }

    // APOP name digest (RFC 1939, section 7).
    action on_apop(std::string_view argument)
    {
        if (auto refusal = login_refusal(apop_name, apop_offered()))
            return reject(*refusal);
        if (timestamp_.empty())
            return reject(replies::mechanism_unsupported);

        // APOP name digest: the digest is 32 hex digits, and anything
        // else in the line is a syntax error, so that no stray part of a
        // digest ends up as the user name in the log.
        auto space = argument.find(' ');
        auto digest = space == std::string_view::npos
                          ? std::string_view{}
                          : argument.substr(space + 1);
        if (space == 0 || digest.size() != 32 ||
            digest.find_first_not_of("0123456789abcdefABCDEF") !=
                std::string_view::npos)
            return reject(replies::syntax_error);

        method_ = login_method::apop;
        mechanism_ = apop_name;
        request_ = sasl::step{};
        request_.kind = sasl::step_kind::lookup_credentials;
        request_.authcid = std::string(argument.substr(0, space));
        login_user_ = request_.authcid;
        apop_digest_ = std::string(digest);
        return action::lookup_credentials;
    }

    // The account's own plaintext secret first, then the POP3 override
    // password. An account with neither fails as a wrong digest does.
    action check_apop(const directory::credentials* found)
    {
        bool ok = false;
        if (found && found->plaintext)
            ok = apop_matches(timestamp_, found->plaintext->view(),
                              apop_digest_);
        if (!ok && found && found->pop3_override_plaintext)
            ok = apop_matches(timestamp_,
                              found->pop3_override_plaintext->view(),
                              apop_digest_);
        apop_digest_.clear();
        if (!ok)
            return fail_login(replies::auth_failed);
        return login_succeeded(found->user);
    }

    // AUTH [mechanism [initial-response]] (RFC 5034, section 4).
    action on_auth(std::string_view argument)
    {
        if (argument.empty())
            return list_mechanisms();

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
                              .accept_pop3_override = true,
                              .allow_ntlmv1 = config_.allow_ntlmv1,
                              .scram_fake_salt_key =
                                  config_.scram_fake_salt_key,
                              .scram_iterations = config_.scram_iterations};
        exchange_ = Mechanisms::create(name, context);
        mechanism_ = exchange_->name();
        method_ = login_method::sasl;
        login_user_.clear();
        if (!initial)
            return on_step(exchange_->start(std::nullopt));
        if (*initial == "=")
            return on_step(exchange_->start(std::string_view{}));
        auto decoded = base64_decode(*initial);
        if (!decoded)
            return fail_login(replies::auth_bad_base64);
        return on_step(exchange_->start(std::string_view(*decoded)));
    }

    // AUTH without arguments lists the mechanisms, as Outlook Express and
    // other clients of the older RFC 1734 expect.
    action list_mechanisms()
    {
        replies::append_line(output_, replies::mechanism_list);
        for (auto name : offered_mechanisms()) {
            replies::append_line(output_, name);
        }
        replies::append_line(output_, ".");
        return action::none;
    }

    std::optional<std::string_view>
    check_mechanism(std::string_view name) const
    {
        using refusal = typename Mechanisms::refusal;
        auto outcome = Mechanisms::check(
            name, config_.auth, connection_.encrypted,
            [this](directory::secret_kind kind) { return supplies(kind); });
        if (outcome == refusal::unsupported)
            return replies::mechanism_unsupported;
        if (outcome == refusal::needs_tls)
            return replies::mechanism_needs_tls;
        return std::nullopt;
    }

    action on_auth_response(std::string_view line)
    {
        if (line == "*")
            return fail_login(replies::auth_cancelled);
        auto decoded = base64_decode(line);
        if (!decoded)
            return fail_login(replies::auth_bad_base64);
        if (pending_success_)
            return login_succeeded(last_step_.authcid);
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
            if (!last_step_.data.empty()) {
                pending_success_ = true;
                send_challenge(last_step_.data);
                return action::none;
            }
            return login_succeeded(last_step_.authcid);
        case sasl::step_kind::failure:
            break;
        }
        return fail_login(last_step_.reason == sasl::failure_reason::malformed
                              ? replies::auth_malformed
                              : replies::auth_failed);
    }

    void send_challenge(std::string_view data)
    {
        state_ = state::auth;
        output_ += "+ ";
        output_ += base64_encode(data);
        output_ += "\r\n";
    }

    action login_succeeded(std::string_view user)
    {
        end_exchange();
        user_ = directory::canonical_user_name(user).value_or(
            std::string(user));
        return action::authenticated;
    }

    action fail_login(std::string_view response)
    {
        end_exchange();
        replies::append_line(output_, response);
        // The driver logs every failure, then closes when the state is
        // closed.
        if (++auth_failures_ >= max_auth_failures) {
            replies::append_line(output_, replies::too_many_errors);
            state_ = state::closed;
        }
        return action::auth_failed;
    }

    action temporary_failure()
    {
        end_exchange();
        replies::append_line(output_, replies::auth_temporary);
        return action::auth_failed;
    }

    void end_exchange()
    {
        exchange_.reset();
        last_step_.password.wipe();
        request_.password.wipe();
        pending_success_ = false;
        state_ = state::authorization;
    }

    std::string summary() const
    {
        auto n = drop_->count();
        return "maildrop has " + std::to_string(n) +
               (n == 1 ? " message (" : " messages (") +
               std::to_string(drop_->total_size()) + " octets)";
    }

    action on_stat(std::string_view argument)
    {
        if (!argument.empty())
            return reject(replies::syntax_error);
        return respond("+OK " + std::to_string(drop_->count()) + " " +
                       std::to_string(drop_->total_size()));
    }

    // Returns the index of message `argument` if it exists and is not
    // deleted; otherwise appends the error.
    std::optional<std::size_t> find_message(std::string_view argument)
    {
        auto number = parse_message_number(argument);
        if (!number) {
            reject(replies::syntax_error);
            return std::nullopt;
        }
        const auto& messages = drop_->messages();
        if (*number > messages.size() || messages[*number - 1].deleted) {
            reject(replies::no_such_message);
            return std::nullopt;
        }
        return *number - 1;
    }

    action on_list(std::string_view argument)
    {
        return list_or_uidl(argument, false);
    }

    action on_uidl(std::string_view argument)
    {
        return list_or_uidl(argument, true);
    }

    // LIST and UIDL (RFC 1939, sections 5 and 7) differ only in the value
    // shown for each message.
    action list_or_uidl(std::string_view argument, bool unique_ids)
    {
        const auto& messages = drop_->messages();
        auto value = [&](std::size_t i) {
            return unique_ids ? std::string(messages[i].unique_id)
                              : std::to_string(messages[i].size);
        };

        if (!argument.empty()) {
            auto index = find_message(argument);
            if (!index)
                return action::none;
            return respond("+OK " + std::to_string(*index + 1) + " " +
                           value(*index));
        }

        replies::append_line(output_, unique_ids ? replies::unique_id_list
                                                 : "+OK " + summary());
        for (std::size_t i = 0; i < messages.size(); ++i)
            if (!messages[i].deleted)
                replies::append_line(output_,
                                     std::to_string(i + 1) + " " + value(i));
        replies::append_line(output_, ".");
        return action::none;
    }

    action on_retr(std::string_view argument)
    {
        auto index = find_message(argument);
        if (!index)
            return action::none;
        message_index_ = *index;
        top_lines_.reset();
        return action::send_message;
    }

    // TOP msg n (RFC 1939, section 7).
    action on_top(std::string_view argument)
    {
        auto space = argument.find(' ');
        if (space == std::string_view::npos)
            return reject(replies::syntax_error);
        auto lines = parse_line_count(argument.substr(space + 1));
        if (!lines)
            return reject(replies::syntax_error);
        auto index = find_message(argument.substr(0, space));
        if (!index)
            return action::none;
        message_index_ = *index;
        top_lines_ = *lines;
        return action::send_message;
    }

    action on_dele(std::string_view argument)
    {
        auto number = parse_message_number(argument);
        if (!number)
            return reject(replies::syntax_error);
        const auto& messages = drop_->messages();
        if (*number > messages.size())
            return reject(replies::no_such_message);
        if (!drop_->mark_deleted(*number - 1))
            return reject(replies::already_deleted);
        return respond("+OK Message " + std::to_string(*number) +
                       " deleted");
    }

    action on_rset(std::string_view argument)
    {
        if (!argument.empty())
            return reject(replies::syntax_error);
        drop_->reset();
        return respond("+OK " + summary());
    }

    const settings& config_;
    connection_info connection_;
    std::bitset<8> supplied_;
    state state_ = state::authorization;
    std::string output_;
    int errors_ = 0;
    int auth_failures_ = 0;

    std::string timestamp_;
    std::string pending_user_;
    std::string apop_digest_;
    login_method method_ = login_method::none;
    std::string_view mechanism_;
    std::string login_user_;
    sasl::step request_;
    std::optional<typename Mechanisms::exchange> exchange_;
    sasl::step last_step_;
    bool pending_success_ = false;
    std::string user_;

    Maildrop* drop_ = nullptr;
    std::size_t messages_left_ = 0;
    std::size_t message_index_ = 0;
    std::optional<std::size_t> top_lines_;
};

} // namespace postern::pop3
