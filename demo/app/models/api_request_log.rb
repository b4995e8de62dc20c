# frozen_string_literal: true

class ApiRequestLog < ApplicationRecord
end
