# frozen_string_literal: true

class BodyMeasurement < ApplicationRecord
  belongs_to :user
end
