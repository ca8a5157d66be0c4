"""The accounts and journals we post to, in the French chart of accounts (PCG).

DOMAIN.md's suggested scheme, with two choices written down:
- a direct cost (purchase for resale, subcontracting) goes to 604 "achats
  d'études et prestations de services", any other expense to 606 "achats non
  stockés": the event tells only direct or not, and these are the PCG's
  catch-alls for each;
- the 431 line of a payroll is split in two (employee and employer shares) so
  that each figure of a payslip is one ledger line.
"""

from __future__ import annotations

ACCOUNTS: dict[str, str] = {
    "1013": "Capital souscrit - appelé, versé",
    "120": "Résultat de l'exercice (bénéfice)",
    "129": "Résultat de l'exercice (perte)",
    "401": "Fournisseurs",
    "411": "Clients",
    "421": "Personnel - rémunérations dues",
    "431": "Sécurité sociale",
    "437": "Autres organismes sociaux",
    "44551": "TVA à décaisser",
    "44566": "TVA déductible sur autres biens et services",
    "44571": "TVA collectée",
    "4561": "Associés - comptes d'apport en société",
    "512": "Banque",
    "604": "Achats d'études et prestations de services",
    "606": "Achats non stockés de matières et fournitures",
    "641": "Rémunérations du personnel",
    "645": "Charges de sécurité sociale et de prévoyance",
    "6581": "Contribution coopérative (activité)",
    "706": "Prestations de services",
    "7581": "Contributions coopératives reçues",
}

JOURNALS: dict[str, str] = {
    "AN": "À-nouveaux",
    "VT": "Ventes",
    "AC": "Achats",
    "BQ": "Banque",
    "OD": "Opérations diverses",
    "PA": "Paie",
}

CLIENTS = "411"
SUPPLIERS = "401"
BANK = "512"
REVENUE = "706"
VAT_COLLECTED = "44571"
VAT_DEDUCTIBLE = "44566"
DIRECT_COSTS = "604"
OTHER_EXPENSES = "606"
CONTRIBUTION = "6581"
CONTRIBUTIONS_RECEIVED = "7581"
CAPITAL_DUE = "4561"
CAPITAL = "1013"
GROSS_PAY = "641"
EMPLOYER_CONTRIBUTIONS = "645"
NET_PAY_DUE = "421"
SOCIAL_BODIES = "431"
PROFIT = "120"
LOSS = "129"
