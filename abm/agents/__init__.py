"""Mesa agent types, one module each: farmer, government, business, ngo, scientist."""

from abm.agents.business import AgriFoodBusiness
from abm.agents.farmer import Farmer
from abm.agents.government import Government
from abm.agents.ngo import NGO
from abm.agents.scientist import Scientist

__all__ = ["NGO", "AgriFoodBusiness", "Farmer", "Government", "Scientist"]
