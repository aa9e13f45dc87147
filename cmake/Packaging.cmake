# SPDX-License-Identifier: GPL-2.0-or-later
# Debian packages with CPack (`cpack -G DEB` in a build tree), one per
# component, for the Debian release the tree is built on:
#   wireshark-hmtp-plugin_<version>_<release>_<arch>.deb
#       hmtp.so in that Wireshark's system plugin folder
#       (Wireshark_PLUGIN_INSTALL_DIR/epan, from Wireshark's CMake package);
#   hmtp-tools_<version>_<release>_<arch>.deb
#       hmtp-replay, hmtp-broker, hmtp-client, hmtp-decode and their man pages.
# Depends are computed by dpkg-shlibdeps from the binaries, so the plugin
# package depends on the libwireshark package (libwireshark16 for 4.0, 18
# for 4.4, ...) it was linked against. Install with `apt install ./FILE.deb`.
# <release> is the build system's codename (sid for unstable); set
# HMTP_DEB_RELEASE to override.

if(NOT HMTP_DEB_RELEASE)
  set(hmtp_codename "unknown")
  if(EXISTS /etc/os-release)
    file(STRINGS /etc/os-release hmtp_os_release)
    foreach(line ${hmtp_os_release})
      if(line MATCHES "^VERSION_CODENAME=\"?([a-z]+)")
        set(hmtp_codename ${CMAKE_MATCH_1})
      elseif(line MATCHES "^PRETTY_NAME=.*/sid\"?$")
        set(hmtp_sid TRUE)
      endif()
    endforeach()
    if(hmtp_sid)
      set(hmtp_codename sid) # unstable names the next release as its codename
    endif()
  endif()
  set(HMTP_DEB_RELEASE ${hmtp_codename} CACHE STRING "Debian release named in the .deb file names")
endif()

set(CPACK_PACKAGE_NAME hmtp-tools)
set(CPACK_PACKAGE_VENDOR "hmtp-tools")
set(CPACK_PACKAGE_CONTACT "hmtp-tools maintainers <hmtp-tools@localhost>")
# No CPACK_PACKAGE_DESCRIPTION_SUMMARY: CPack would put it before each
# component's description, whose first line is already the package synopsis.
set(CPACK_RESOURCE_FILE_LICENSE ${PROJECT_SOURCE_DIR}/LICENSE)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_PACKAGE_DIRECTORY ${PROJECT_BINARY_DIR})

set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_RELEASE "1~${HMTP_DEB_RELEASE}")
set(CPACK_DEBIAN_COMPRESSION_TYPE xz)
execute_process(COMMAND dpkg --print-architecture OUTPUT_VARIABLE hmtp_deb_arch
                OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
if(NOT hmtp_deb_arch)
  set(hmtp_deb_arch amd64)
endif()
set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE ${hmtp_deb_arch})

set(CPACK_COMPONENTS_ALL hmtp_tools)
set(CPACK_COMPONENT_HMTP_TOOLS_DISPLAY_NAME "HMTP command-line tools")
set(CPACK_DEBIAN_HMTP_TOOLS_PACKAGE_NAME hmtp-tools)
set(CPACK_DEBIAN_HMTP_TOOLS_FILE_NAME
    "hmtp-tools_${PROJECT_VERSION}_${HMTP_DEB_RELEASE}_${hmtp_deb_arch}.deb")
set(CPACK_COMPONENT_HMTP_TOOLS_DESCRIPTION
"Tools for Caucho Resin 4.0's HMTP/0.9 protocol
hmtp-replay replays the client side of recorded HMTP sessions (pcap/pcapng)
against a live server and verifies the answers; hmtp-broker is a reference
HMTP server; hmtp-client runs scripted sessions; hmtp-decode prints a raw
HMTP stream as JSON.")

# The plugin package exists when the plugin is built (HMTP_WIRESHARK_ABI is
# set by plugin/CMakeLists.txt then).
if(TARGET hmtp_plugin AND HMTP_WIRESHARK_ABI)
  list(APPEND CPACK_COMPONENTS_ALL hmtp_plugin_system)
  set(CPACK_COMPONENT_HMTP_PLUGIN_SYSTEM_DISPLAY_NAME "Wireshark HMTP dissector")
  set(CPACK_DEBIAN_HMTP_PLUGIN_SYSTEM_PACKAGE_NAME wireshark-hmtp-plugin)
  set(CPACK_DEBIAN_HMTP_PLUGIN_SYSTEM_FILE_NAME
      "wireshark-hmtp-plugin_${PROJECT_VERSION}_${HMTP_DEB_RELEASE}_${hmtp_deb_arch}.deb")
  set(CPACK_DEBIAN_HMTP_PLUGIN_SYSTEM_PACKAGE_ENHANCES "wireshark, tshark")
  set(CPACK_COMPONENT_HMTP_PLUGIN_SYSTEM_DESCRIPTION
"Wireshark dissector for Caucho Resin 4.0's HMTP/0.9 protocol
Decodes every HMTP packet and its Hessian 2.0 payload in Wireshark and
tshark ${HMTP_WIRESHARK_ABI}: filterable hmtp.* and hessian.* fields, queries
linked to their answers, expert info, encrypted login decryption and
-z hmtp,tree statistics.")
endif()

include(CPack)
