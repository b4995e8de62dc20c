# frozen_string_literal: true

require "rbconfig"

module VirtualTrainerOptimizer
  # Decides, once per Ruby frame, whether a frame's file is the application's
  # own code. The native capture (ext/.../frames.rs) calls `classify` the
  # first time it meets a frame and caches the answer.
  #
  # App code is what lies under the app root and is neither an installed
  # library (gem directories, the Ruby standard library, vendor/bundle, this
  # gem) nor silenced by the configured backtrace cleaner. spec/ and test/
  # files are app code even though Rails' own cleaner silences them: a loop in
  # a test is a call site too.
  module CallSite
    LIBRARY = 0
    APP = 1
    BATCH = 2
    ASSOCIATION = 3
    BATCH_EACH = 4

    # Library code whose queries are deliberate batches: never an N+1. The
    # block of in_batches / find_in_batches runs once per batch; the block of
    # find_each once per record.
    BATCHES_FILE = %r{/active_record/relation/batches(?:/[^/]+)?\.rb\z}.freeze
    PRELOADER_FILES = %r{/active_record/associations/preloader(?:\.rb|/)}.freeze
    ASSOCIATION_FILES = %r{/active_record/associations/}.freeze
    GEM_DIR = File.expand_path("..", __dir__)

    class << self
      # The classifier the native capture calls, once per frame.
      def classify(path, method_name = nil)
        return method_name.to_s == "find_each" ? BATCH_EACH : BATCH if BATCHES_FILE.match?(path)
        return BATCH if PRELOADER_FILES.match?(path)
        return ASSOCIATION if ASSOCIATION_FILES.match?(path)

        app?(path) ? APP : LIBRARY
      end

      def app?(path)
        return false if path.start_with?("<") || !path.start_with?(@root)
        return false if @library.any? { |dir| path.start_with?(dir) }
        return false if @vendor.match?(path)
        return true if @tests.any? { |dir| path.start_with?(dir) }

        !silenced?(path)
      end

      # Reads the configuration again (app root, cleaner) and forgets every
      # frame classified so far.
      def reset!(config = VirtualTrainerOptimizer.config)
        root = File.expand_path(config.app_root_path)
        @root = root.end_with?("/") ? root : "#{root}/"
        @tests = %w[spec test].map { |dir| "#{@root}#{dir}/" }
        @library = library_dirs.reject { |dir| @root.start_with?(dir) } << "#{GEM_DIR}/"
        @vendor = %r{/(?:vendor/bundle|vendor/ruby|\.bundle|node_modules)/}
        @cleaner = config.backtrace_cleaner
        Native.frame_classifier = method(:classify)
      end

      # Relative to the app root, for display.
      def relative(path)
        path = path.to_s
        @root && path.start_with?(@root) ? path.delete_prefix(@root) : path
      end

      private

      def silenced?(path)
        return false unless @cleaner

        @cleaner.clean(["#{path}:1:in `x'"]).empty?
      rescue StandardError
        false
      end

      def library_dirs
        dirs = Gem.path.map { |dir| File.join(dir, "gems/") }
        dirs += %w[rubylibdir rubyarchdir sitedir vendordir].filter_map { |key| RbConfig::CONFIG[key] }
        dirs += Gem.default_path if Gem.respond_to?(:default_path)
        dirs << "/usr/share/rubygems-integration/" << "/usr/lib/ruby/" << "/var/lib/gems/"
        dirs.map { |dir| dir.end_with?("/") ? dir : "#{dir}/" }.uniq
      end
    end
  end
end
