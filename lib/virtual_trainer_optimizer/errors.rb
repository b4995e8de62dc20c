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

  # Raised at the end of a unit of work for the kinds in `raise_on`;
  # `#findings` holds every finding of those kinds, most urgent first.
  class FindingError < Error
    attr_reader :findings

    def initialize(findings)
      @findings = findings
      lines = findings.map { |f| "  - #{f.message}" }
      super("#{findings.size} finding#{'s' unless findings.size == 1} from virtual_trainer_optimizer:\n#{lines.join("\n")}")
    end
  end

  class NPlusOneError < FindingError; end
  class BulkWriteError < FindingError; end
  class SlowQueryError < FindingError; end
  class DuplicateQueryError < FindingError; end
  # A request, job or scan over its budget.
  class SlowRequestError < FindingError; end
  # An external-call finding (in a request, in a loop, repeated, slow, failing, ...).
  class ExternalCallError < FindingError; end
end
