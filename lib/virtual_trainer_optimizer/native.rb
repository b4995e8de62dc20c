# frozen_string_literal: true

require "rbconfig"

module VirtualTrainerOptimizer
  # Loads the compiled extension: first from a Ruby-version directory (as laid out
  # by precompiled platform gems, e.g. virtual_trainer_optimizer/3.1/), then from
  # beside this file (`rake compile`), then from the load path (RubyGems puts a
  # source-built extension in the gem's extension directory).
  module NativeLoader
    NAME = "virtual_trainer_optimizer"

    module_function

    def candidates(ruby_version = RUBY_VERSION, dir = __dir__)
      minor = ruby_version[/\A\d+\.\d+/]
      dlext = RbConfig::CONFIG["DLEXT"]
      local = [File.join(dir, minor, NAME), File.join(dir, NAME)]
      local.select { |path| File.exist?("#{path}.#{dlext}") } << "#{NAME}/#{NAME}"
    end

    def load!
      require candidates.first
    rescue LoadError => e
      raise LoadError, "#{e.message}\nvirtual_trainer_optimizer's native extension is not built: " \
                       "run `rake compile` in a checkout, or reinstall the gem."
    end
  end
end

VirtualTrainerOptimizer::NativeLoader.load!
