# frozen_string_literal: true

module VirtualTrainerOptimizer
  # Base class of every error the gem raises.
  class Error < StandardError; end

  # SQL the analyzer could not parse. The message is the parser's own.
  class ParseError < Error; end

  # Input larger than the configured cap (see SQL.max_input_bytes).
  class InputTooLarge < Error; end

  # A bug in the native code (a Rust panic), caught before it could end the process.
  class InternalError < Error; end
end
