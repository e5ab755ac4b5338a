# Install rules and CPack packages (packaging/README.md says how to build each package and what
# is tested where). Included at the end of the top-level CMakeLists.txt, after every target.
#
#   Linux:   cpack -G DEB       -> mcp-broker_<version>-1_<arch>.deb   (built and tested in CI)
#   macOS:   cpack -G DragNDrop -> mcp-broker-<version>-Darwin.dmg     (written, not built here)
#   Windows: cpack -G NSIS      -> mcp-broker-<version>-win64.exe      (written, not built here)

include(GNUInstallDirs)

set(MCPB_PACKAGE_MAINTAINER "MCP Broker developers <packaging@mcp-broker.dev>"
    CACHE STRING "Maintainer named in the packages (\"Name <email>\")")

set(CPACK_PACKAGE_NAME mcp-broker)
set(CPACK_PACKAGE_VENDOR "MCP Broker")
set(CPACK_PACKAGE_CONTACT "${MCPB_PACKAGE_MAINTAINER}")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "Credential broker for MCP clients: one local endpoint, tokens in the keychain")
# Lines under 80 columns: the .deb's control file shows them as they are.
string(JOIN "\n" CPACK_PACKAGE_DESCRIPTION
    "MCP Broker keeps every upstream MCP server's token in the OS keychain and"
    "serves one localhost MCP endpoint that Claude Code, Cursor, VS Code, Codex"
    "and Windsurf share. It runs each server's OAuth sign-in once, in the"
    "browser, and shows a tray icon for consent, revocation and sign-in status.")
set(CPACK_PACKAGE_INSTALL_DIRECTORY "MCP Broker")
set(CPACK_RESOURCE_FILE_README "${PROJECT_SOURCE_DIR}/README.md")
set(CPACK_STRIP_FILES ON)
# A source tarball (cpack --config CPackSourceConfig.cmake) without build trees or test peers.
set(CPACK_SOURCE_GENERATOR TGZ)
set(CPACK_SOURCE_IGNORE_FILES "/\\\\.git/" "/build[^/]*/" "/node_modules/" "\\\\.swp$")

if(APPLE)
    # ---- macOS: an app bundle on a .dmg. Tray only (LSUIElement: no Dock icon, no menu bar).
    # Needs in app/CMakeLists.txt: install(TARGETS mcp-broker ... BUNDLE DESTINATION .).
    set_target_properties(mcp-broker PROPERTIES
        MACOSX_BUNDLE TRUE
        MACOSX_BUNDLE_INFO_PLIST "${CMAKE_CURRENT_LIST_DIR}/macos/Info.plist.in"
        MACOSX_BUNDLE_BUNDLE_NAME "MCP Broker"
        MACOSX_BUNDLE_GUI_IDENTIFIER "dev.mcp-broker"
        MACOSX_BUNDLE_BUNDLE_VERSION "${PROJECT_VERSION}"
        MACOSX_BUNDLE_SHORT_VERSION_STRING "${PROJECT_VERSION}"
        MACOSX_BUNDLE_COPYRIGHT "MCP Broker developers")
    # Copies the Qt frameworks and plugins (platform, SVG icon engine) into the bundle.
    qt_generate_deploy_app_script(TARGET mcp-broker FILENAME_VARIABLE mcpb_deploy_script)
    install(SCRIPT "${mcpb_deploy_script}")
    set(CPACK_GENERATOR DragNDrop)
    set(CPACK_DMG_VOLUME_NAME "MCP Broker")
    set(CPACK_DMG_FORMAT UDZO)
elseif(WIN32)
    # ---- Windows: an NSIS installer with a Start-menu shortcut that starts the tray.
    # Qt's DLLs and plugins (windeployqt), then QtKeychain's and OpenSSL's DLLs.
    qt_generate_deploy_app_script(TARGET mcp-broker FILENAME_VARIABLE mcpb_deploy_script)
    install(SCRIPT "${mcpb_deploy_script}")
    install(FILES $<TARGET_RUNTIME_DLLS:mcp-broker> DESTINATION ${CMAKE_INSTALL_BINDIR})
    set(CPACK_GENERATOR NSIS)
    set(CPACK_NSIS_PACKAGE_NAME "MCP Broker")
    set(CPACK_NSIS_DISPLAY_NAME "MCP Broker")
    set(CPACK_NSIS_INSTALLED_ICON_NAME "bin\\\\mcp-broker.exe")
    set(CPACK_NSIS_MODIFY_PATH ON) # offers to put mcp-broker on the PATH for the command line
    set(CPACK_NSIS_ENABLE_UNINSTALL_BEFORE_INSTALL ON)
    # Four backslashes: CPack expands this text twice before NSIS reads one.
    set(CPACK_NSIS_CREATE_ICONS_EXTRA
        "CreateShortCut '$SMPROGRAMS\\\\$STARTMENU_FOLDER\\\\MCP Broker.lnk' \
'$INSTDIR\\\\bin\\\\mcp-broker.exe' 'tray' '$INSTDIR\\\\bin\\\\mcp-broker.exe' 0")
    set(CPACK_NSIS_DELETE_ICONS_EXTRA "Delete '$SMPROGRAMS\\\\$MUI_TEMP\\\\MCP Broker.lnk'")
    # "Start at login" (ui/Autostart.cpp) points at the program being removed: remove it too.
    set(CPACK_NSIS_EXTRA_UNINSTALL_COMMANDS
        "DeleteRegValue HKCU 'Software\\\\Microsoft\\\\Windows\\\\CurrentVersion\\\\Run' 'MCP Broker'")
else()
    # ---- Linux: the application entry and its icon (the binary's rule is in app/).
    install(FILES "${PROJECT_SOURCE_DIR}/resources/mcp-broker.desktop"
            DESTINATION ${CMAKE_INSTALL_DATADIR}/applications)
    install(FILES "${PROJECT_SOURCE_DIR}/resources/icons/mcp-broker.svg"
            DESTINATION ${CMAKE_INSTALL_DATADIR}/icons/hicolor/scalable/apps)
    install(FILES "${PROJECT_SOURCE_DIR}/README.md" DESTINATION ${CMAKE_INSTALL_DOCDIR})

    set(CPACK_GENERATOR DEB)
    set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
    set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
    set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
    set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${MCPB_PACKAGE_MAINTAINER}")
    set(CPACK_DEBIAN_PACKAGE_SECTION utils)
    set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
    set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
    # dpkg-shlibdeps turns the binary's libraries into Depends (libqt6core6, libqt6gui6 — which
    # also ships the xcb platform plugin on Debian 12 —, libqt6keychain1, libssl3…). CPack adds
    # them to the list below, which names what is only loaded at run time: QtKeychain's Secret
    # Service backend (libsecret-1-0) and the SVG icon engine plugin the tray icons need.
    set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
    set(CPACK_DEBIAN_PACKAGE_DEPENDS "libsecret-1-0, libqt6svg6")
    # Something must answer on the Secret Service D-Bus API; desktops ship one of these.
    set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "gnome-keyring | libkf5wallet-bin")
    # Native Wayland windows; without it Qt uses XWayland through the xcb plugin.
    set(CPACK_DEBIAN_PACKAGE_SUGGESTS "qt6-wayland")
    # dpkg's triggers (desktop-file-utils, hicolor-icon-theme) refresh the menu and icon caches,
    # so the package needs no maintainer scripts.
endif()

include(CPack)
