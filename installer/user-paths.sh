# shellcheck shell=bash disable=SC2034  # the variables are used by the scripts that source this
# Where install.sh and uninstall.sh put (and find) a user's install; sourced by both so they
# always agree. XDG variables count only when absolute (XDG Base Directory spec).

absolute_or_empty() {
    case ${1-} in /*) printf '%s' "$1" ;; esac
}

data_home=$(absolute_or_empty "${XDG_DATA_HOME-}")
data_home=${data_home:-$HOME/.local/share}
config_home=$(absolute_or_empty "${XDG_CONFIG_HOME-}")
config_home=${config_home:-$HOME/.config}
manifest=$data_home/mcp-broker/install-manifest.txt
autostart_entry=$config_home/autostart/mcp-broker.desktop
