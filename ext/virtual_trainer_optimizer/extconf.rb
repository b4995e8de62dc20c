# frozen_string_literal: true

# Builds the Rust extension. With the rb_sys gem installed, rb_sys/mkmf writes
# the Makefile; without it (as on Debian, where rb_sys is not packaged) we write
# one that runs cargo and installs the library where RubyGems and
# rake-compiler look for it (`$(sitearchdir)$(target_prefix)`).

require "mkmf"

EXT_NAME = "virtual_trainer_optimizer"

begin
  require "rb_sys/mkmf"
rescue LoadError
  have_rb_sys = false
else
  have_rb_sys = true
end

if have_rb_sys
  create_rust_makefile("#{EXT_NAME}/#{EXT_NAME}")
  exit
end

unless find_executable(ENV.fetch("CARGO", "cargo"))
  abort <<~MSG
    virtual_trainer_optimizer needs Rust's cargo (1.74 or newer) to build its native
    extension, and libclang for the Ruby bindings. Install Rust from https://rustup.rs
    and libclang (Debian/Ubuntu: apt-get install libclang-dev), then install again.
  MSG
end

windows = RbConfig::CONFIG["host_os"].match?(/mswin|mingw/)
cargo_lib = "#{windows ? '' : 'lib'}#{EXT_NAME}.#{windows ? 'dll' : RbConfig::CONFIG['SOEXT']}"

File.write("Makefile", <<~MAKE)
  #{configuration($srcdir).join}
  DLEXT = #{RbConfig::CONFIG['DLEXT']}
  target_prefix = /#{EXT_NAME}
  RUBYARCHDIR = $(sitearchdir)$(target_prefix)
  DLLIB = #{EXT_NAME}.$(DLEXT)
  CARGO ?= cargo
  RUBY_FOR_CARGO = #{RbConfig.ruby}
  # Without a shared CARGO_TARGET_DIR (rake-compiler's Rakefile sets one), build in
  # place and drop the build tree after install, as a gem install should.
  ifeq ($(origin CARGO_TARGET_DIR),undefined)
  CARGO_TARGET_DIR := $(CURDIR)/target
  DROP_TARGET_AFTER_INSTALL := 1
  endif
  CARGO_LIB = $(CARGO_TARGET_DIR)/release/#{cargo_lib}

  .PHONY: all install clean distclean realclean cargo-build static install-so install-rb

  all: $(DLLIB)
  static: all

  cargo-build:
  \tRUBY="$(RUBY_FOR_CARGO)" CARGO_TARGET_DIR="$(CARGO_TARGET_DIR)" $(CARGO) build --release --locked --lib --manifest-path "$(srcdir)/Cargo.toml"

  $(DLLIB): cargo-build
  \tcp "$(CARGO_LIB)" $(DLLIB)

  install: install-so install-rb
  install-rb:
  install-so: $(DLLIB)
  \t$(MAKEDIRS) $(RUBYARCHDIR)
  \t$(INSTALL_PROG) $(DLLIB) $(RUBYARCHDIR)
  ifdef DROP_TARGET_AFTER_INSTALL
  \t$(RM_RF) "$(CARGO_TARGET_DIR)"
  endif

  clean:
  \t-$(RM) $(DLLIB)

  distclean: clean
  \t-$(RM) Makefile mkmf.log
  realclean: distclean
MAKE
