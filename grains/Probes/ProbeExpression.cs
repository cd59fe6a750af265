namespace Telemetry.Grains.Probes;

/// <summary>Outcome of evaluating a parameter string from a probe definition.</summary>
internal enum ExpressionOutcome
{
    /// <summary>An integer expression that was evaluated.</summary>
    Value,

    /// <summary>A well-formed expression that refers to C++ constants (e.g. <c>JS::gcreason::NUM_TELEMETRY_REASONS</c>).</summary>
    Constant,

    /// <summary>Not an expression this evaluator understands (syntax error, overflow, division by zero, too long).</summary>
    Invalid,
}

/// <summary>
/// A tiny, safe evaluator for the arithmetic found in old Histograms.json files
/// (<c>"80 + 1"</c>, <c>"16 * 1024 * 1024"</c>, <c>"(10+2)*3"</c>): integer literals, + - * /,
/// unary + and -, parentheses. Identifiers (optionally qualified with <c>::</c>) are accepted as
/// opaque C++ constants: the expression then cannot be evaluated. Nothing else is accepted.
/// Arithmetic is 64-bit, checked; division truncates toward zero (as C++ does).
/// </summary>
internal static class ProbeExpression
{
    public const int MaxLength = 256;
    private const int MaxDepth = 32;

    public static ExpressionOutcome Evaluate(string text, out long value)
    {
        value = 0;
        if (text.Length == 0 || text.Length > MaxLength)
        {
            return ExpressionOutcome.Invalid;
        }

        var parser = new Parser(text);
        try
        {
            parser.SkipBlanks();
            if (parser.AtEnd)
            {
                return ExpressionOutcome.Invalid;
            }

            var result = parser.ParseSum(0);
            parser.SkipBlanks();
            if (!parser.AtEnd || parser.Failed)
            {
                return ExpressionOutcome.Invalid;
            }

            if (parser.SawIdentifier)
            {
                return ExpressionOutcome.Constant;
            }

            value = result;
            return ExpressionOutcome.Value;
        }
        catch (OverflowException)
        {
            return ExpressionOutcome.Invalid;
        }
    }

    /// <summary>An operand's value; <c>Exact</c> is false when it depends on a C++ constant (value meaningless).</summary>
    private readonly record struct Operand(long Value, bool Exact)
    {
        public static Operand Opaque => new(1, false);
    }

    private ref struct Parser
    {
        private readonly ReadOnlySpan<char> s;
        private int pos;

        public Parser(string text)
        {
            s = text.AsSpan();
            pos = 0;
            Failed = false;
            SawIdentifier = false;
        }

        public bool Failed { get; private set; }

        public bool SawIdentifier { get; private set; }

        public readonly bool AtEnd => pos >= s.Length;

        public void SkipBlanks()
        {
            while (pos < s.Length && char.IsWhiteSpace(s[pos]))
            {
                pos++;
            }
        }

        // sum := product (('+' | '-') product)*
        public long ParseSum(int depth) => Sum(depth).Value;

        private Operand Sum(int depth)
        {
            var left = Product(depth);
            while (!Failed)
            {
                SkipBlanks();
                if (AtEnd || (s[pos] != '+' && s[pos] != '-'))
                {
                    break;
                }

                var op = s[pos++];
                var right = Product(depth);
                if (Failed)
                {
                    break;
                }

                left = !left.Exact || !right.Exact
                    ? Operand.Opaque
                    : new Operand(op == '+' ? checked(left.Value + right.Value) : checked(left.Value - right.Value), true);
            }

            return left;
        }

        // product := unary (('*' | '/') unary)*
        private Operand Product(int depth)
        {
            var left = Unary(depth);
            while (!Failed)
            {
                SkipBlanks();
                if (AtEnd || (s[pos] != '*' && s[pos] != '/'))
                {
                    break;
                }

                var op = s[pos++];
                var right = Unary(depth);
                if (Failed)
                {
                    break;
                }

                if (op == '/' && right.Exact && right.Value == 0)
                {
                    Failed = true; // division by zero
                    break;
                }

                left = !left.Exact || !right.Exact
                    ? Operand.Opaque
                    : new Operand(op == '*' ? checked(left.Value * right.Value) : left.Value / right.Value, true);
            }

            return left;
        }

        // unary := ('+' | '-') unary | primary
        private Operand Unary(int depth)
        {
            if (depth > MaxDepth)
            {
                Failed = true;
                return default;
            }

            SkipBlanks();
            if (AtEnd)
            {
                Failed = true;
                return default;
            }

            var c = s[pos];
            if (c == '+' || c == '-')
            {
                pos++;
                var operand = Unary(depth + 1);
                return c == '-' && operand.Exact ? new Operand(checked(-operand.Value), true) : operand;
            }

            return Primary(depth);
        }

        // primary := integer | identifier ('::' identifier)* | '(' sum ')'
        private Operand Primary(int depth)
        {
            var c = s[pos];
            if (c == '(')
            {
                pos++;
                var inner = Sum(depth + 1);
                SkipBlanks();
                if (Failed || AtEnd || s[pos] != ')')
                {
                    Failed = true;
                    return default;
                }

                pos++;
                return inner;
            }

            if (char.IsAsciiDigit(c))
            {
                long v = 0;
                while (pos < s.Length && char.IsAsciiDigit(s[pos]))
                {
                    v = checked((v * 10) + (s[pos] - '0'));
                    pos++;
                }

                if (pos < s.Length && IsIdentifierChar(s[pos]))
                {
                    Failed = true; // "10u", "1e3", "0x10": not supported
                    return default;
                }

                return new Operand(v, true);
            }

            if (IsIdentifierStart(c))
            {
                ReadIdentifier();
                while (pos + 2 < s.Length && s[pos] == ':' && s[pos + 1] == ':' && IsIdentifierStart(s[pos + 2]))
                {
                    pos += 2;
                    ReadIdentifier();
                }

                if (pos < s.Length && (s[pos] == ':' || s[pos] == '('))
                {
                    Failed = true; // dangling ':' / '::', or a function call
                    return default;
                }

                SawIdentifier = true;
                return Operand.Opaque;
            }

            Failed = true;
            return default;
        }

        private void ReadIdentifier()
        {
            pos++;
            while (pos < s.Length && IsIdentifierChar(s[pos]))
            {
                pos++;
            }
        }

        private static bool IsIdentifierStart(char c) => char.IsAsciiLetter(c) || c == '_';

        private static bool IsIdentifierChar(char c) => char.IsAsciiLetterOrDigit(c) || c == '_';
    }
}
