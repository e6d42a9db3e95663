# Sourced by the lab and bench scripts: checks that the loopback ports a script
# is about to serve on are free, so it fails at once and says why instead of
# timing out against someone else's server.

# Does anything accept TCP connections on 127.0.0.1:$1?
port_in_use() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Exits with a message naming the first of the given ports something listens on.
require_free_ports() {
    local p
    for p in "$@"; do
        if port_in_use "$p"; then
            printf '%s: something already listens on 127.0.0.1:%s; choose other ports (see the script'"'"'s arguments)\n' \
                "$(basename "$0")" "$p" >&2
            exit 1
        fi
    done
}
