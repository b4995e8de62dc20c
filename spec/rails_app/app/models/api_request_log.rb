# frozen_string_literal: true

class ApiRequestLog < ApplicationRecord
  belongs_to :user, optional: true
end
