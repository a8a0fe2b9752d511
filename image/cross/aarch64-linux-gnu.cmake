# CMake toolchain for building firstboot for arm64 on an amd64 Debian 12 with multiarch arm64
# libraries (the build root of image/build-deb).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)
set(CMAKE_STRIP /usr/bin/aarch64-linux-gnu-strip)
# Libraries and CMake package files of the target from /usr/lib/aarch64-linux-gnu, headers from
# /usr/include (multiarch); programs from the build machine.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(ENV{PKG_CONFIG_LIBDIR} "/usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig")
