// The compile-time set of SASL mechanisms (RFC 4422) a server is built
// with, and the runtime rule that narrows it to the mechanisms offered.
#pragma once

#include <postern/directory/credentials.hpp>
#include <postern/sasl/availability.hpp>
#include <postern/sasl/mechanism.hpp>

#include <array>
#include <cassert>
#include <cstddef>
#include <optional>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace postern::sasl {

namespace detail {

template <std::size_t N>
constexpr bool names_are_distinct(
    const std::array<std::string_view, N>& names) noexcept
{
    for (std::size_t i = 0; i < N; ++i) {
        for (std::size_t j = i + 1; j < N; ++j) {
            if (equal_ignoring_ascii_case(names[i], names[j]))
                return false;
        }
    }
    return true;
}

// A mechanism with `static constexpr bool needs_tls = true` works only on
// an encrypted connection, whatever its configured availability.
template <typename M>
constexpr bool needs_tls() noexcept
{
    if constexpr (requires { M::needs_tls; })
        return M::needs_tls;
    else
        return false;
}

// std::variant needs at least one alternative, so the state of an exchange
// of an empty set is std::variant<std::monostate>. No such exchange is
// ever created.
template <typename... Mechanisms>
struct exchange_state {
    using type = std::variant<Mechanisms...>;
};

template <>
struct exchange_state<> {
    using type = std::variant<std::monostate>;
};

} // namespace detail

/// The SASL mechanisms compiled into a server, in the order it advertises
/// them. A mechanism outside the set is never instantiated, so its code is
/// not in the binary, and create() returns nullopt for its name. An empty
/// set builds a server without AUTH.
///
/// @tparam Mechanisms types that model `mechanism`, with distinct names.
template <mechanism... Mechanisms>
class mechanism_set {
public:
    /// The mechanism names, in set order.
    static constexpr std::array<std::string_view, sizeof...(Mechanisms)>
        names{std::string_view(Mechanisms::name)...};

    static_assert(detail::names_are_distinct(names),
                  "two mechanisms in a mechanism_set have the same name");

    class exchange;

    /// Tells whether `name` is in the set, ignoring ASCII case.
    static bool contains(std::string_view name) noexcept
    {
        for (std::string_view known : names) {
            if (detail::equal_ignoring_ascii_case(known, name))
                return true;
        }
        return false;
    }

    /// Starts an exchange of the mechanism called `name` (any ASCII case).
    /// Returns nullopt when the set has no such mechanism.
    static std::optional<exchange>
    create([[maybe_unused]] std::string_view name,
           [[maybe_unused]] const context& connection)
    {
        // The parameters stay unused, and the fold is a bare `false`, when
        // the set is empty.
        std::optional<exchange> created;
        static_cast<void>(
            (try_create<Mechanisms>(created, name, connection) || ...));
        return created;
    }

    /// Returns the names, in set order, of the mechanisms that `map`
    /// offers on this connection and whose stored secret the directory
    /// can supply.
    ///
    /// @tparam Supplies callable as bool(directory::secret_kind), for
    ///   example a lambda that calls the directory's supplies().
    template <typename Supplies>
    static std::vector<std::string_view>
    offered(const availability_map& map, bool encrypted, Supplies&& supplies)
    {
        std::vector<std::string_view> result;
        [[maybe_unused]] auto add_if_offered =
            [&](std::string_view name, directory::secret_kind needs,
                bool needs_tls) {
                if (needs_tls && !encrypted)
                    return;
                if (map.offered(name, encrypted) && supplies(needs))
                    result.push_back(name);
            };
        (add_if_offered(Mechanisms::name, Mechanisms::needs,
                        detail::needs_tls<Mechanisms>()),
         ...);
        return result;
    }

    /// Reasons AUTH with a mechanism cannot run now.
    enum class refusal {
        none,        ///< it may run
        unsupported, ///< not in the set, denied, or its secret is missing
        needs_tls,   ///< only on an encrypted connection
    };

    /// Checks AUTH `name` against the set, the availability `map`, the
    /// connection and the directory, in that order, so that the reply names
    /// the first obstacle.
    template <typename Supplies>
    static refusal check(std::string_view name, const availability_map& map,
                         bool encrypted, Supplies&& supplies)
    {
        auto probe = create(name, context{});
        if (!probe)
            return refusal::unsupported;

        auto availability = map.get(name);
        if (availability == sasl::availability::deny)
            return refusal::unsupported;
        bool tls_only = availability == sasl::availability::tls ||
                        probe->needs_tls();
        if (tls_only && !encrypted)
            return refusal::needs_tls;
        if (!supplies(probe->needs()))
            return refusal::unsupported;
        return refusal::none;
    }

private:
    template <typename M>
    static bool try_create(std::optional<exchange>& created,
                           std::string_view name, const context& connection)
    {
        if (!detail::equal_ignoring_ascii_case(M::name, name))
            return false;
        created.emplace(std::in_place_type<M>, connection);
        return true;
    }
};

/// One running exchange of a mechanism from the set. Each call forwards to
/// the mechanism; see the `mechanism` concept for their contracts.
template <mechanism... Mechanisms>
class mechanism_set<Mechanisms...>::exchange {
public:
    /// Runs mechanism M, which must be in the set.
    template <typename M>
        requires(std::is_same_v<M, Mechanisms> || ...)
    exchange(std::in_place_type_t<M> type, const context& connection)
        : state_(type, connection)
    {
    }

    /// Returns the name of the running mechanism.
    std::string_view name() const noexcept
    {
        return visit_mechanism<std::string_view>(
            state_, [](const auto& m) -> std::string_view {
                return std::remove_cvref_t<decltype(m)>::name;
            });
    }

    /// Tells whether the running mechanism works only over TLS.
    bool needs_tls() const noexcept
    {
        return visit_mechanism<bool>(state_, [](const auto& m) {
            return detail::needs_tls<std::remove_cvref_t<decltype(m)>>();
        });
    }

    /// Returns the kind of stored secret the running mechanism needs.
    directory::secret_kind needs() const noexcept
    {
        return visit_mechanism<directory::secret_kind>(
            state_, [](const auto& m) {
                return std::remove_cvref_t<decltype(m)>::needs;
            });
    }

    step start(std::optional<std::string_view> initial)
    {
        return visit_mechanism<step>(
            state_, [&](auto& m) { return m.start(initial); });
    }

    step respond(std::string_view response)
    {
        return visit_mechanism<step>(
            state_, [&](auto& m) { return m.respond(response); });
    }

    step verified(bool ok)
    {
        return visit_mechanism<step>(
            state_, [&](auto& m) { return m.verified(ok); });
    }

    step found(const directory::credentials* credentials)
    {
        return visit_mechanism<step>(
            state_, [&](auto& m) { return m.found(credentials); });
    }

private:
    using state_type = typename detail::exchange_state<Mechanisms...>::type;

    // Calls `f` with the running mechanism and returns its result as R.
    // Only an exchange of an empty set could hold std::monostate, and
    // create() never makes one, so that branch is unreachable.
    template <typename R, typename State, typename F>
    static R visit_mechanism(State& state, F&& f)
    {
        return std::visit(
            [&](auto& held) -> R {
                using held_type = std::remove_cvref_t<decltype(held)>;
                if constexpr (std::is_same_v<held_type, std::monostate>) {
                    assert(false && "exchange of an empty mechanism_set");
                    return R{};
                } else {
                    return f(held);
                }
            },
            state);
    }

    state_type state_;
};

/// Tells whether T is a mechanism_set.
template <typename T>
struct is_mechanism_set : std::false_type {};

template <mechanism... Mechanisms>
struct is_mechanism_set<mechanism_set<Mechanisms...>> : std::true_type {};

template <typename T>
inline constexpr bool is_mechanism_set_v = is_mechanism_set<T>::value;

/// A specialization of mechanism_set, as taken by the session templates.
template <typename T>
concept mechanism_set_type = is_mechanism_set_v<T>;

} // namespace postern::sasl
