using System.Diagnostics.CodeAnalysis;
using System.Globalization;

/// <summary>
/// Evaluates a simple arithmetic expression (numbers with optional decimals, + - * /, unary signs and parentheses) with
/// a small recursive-descent parser over <see cref="decimal"/>, so 0.1 + 0.2 is 0.3. Nothing else is evaluated.
/// </summary>
internal sealed class ArithmeticEvaluator
{
    // Deep enough for any real expression, shallow enough that "((((…" cannot exhaust the stack.
    private const int MaxDepth = 100;

    private readonly string _text;
    private int _position;
    private int _depth;

    private ArithmeticEvaluator(string text) => _text = text;

    /// <summary>Evaluates an expression such as <c>(1.5 + 2) * -3 / 4</c>.</summary>
    /// <param name="expression">The expression.</param>
    /// <param name="value">The value, when the expression is valid.</param>
    /// <param name="error">Why it could not be evaluated, when it is not.</param>
    /// <returns>Whether the expression was evaluated.</returns>
    public static bool TryEvaluate(string? expression, out decimal value, [NotNullWhen(false)] out string? error)
    {
        value = 0;
        if (string.IsNullOrWhiteSpace(expression))
        {
            error = "The expression is empty.";
            return false;
        }

        var evaluator = new ArithmeticEvaluator(expression);
        try
        {
            value = evaluator.ParseExpression();
            evaluator.SkipWhiteSpace();
            if (evaluator._position < expression.Length)
            {
                throw evaluator.Unexpected();
            }

            error = null;
            return true;
        }
        catch (FormatException ex)
        {
            error = ex.Message;
        }
        catch (DivideByZeroException)
        {
            error = "Division by zero.";
        }
        catch (OverflowException)
        {
            error = "A number or the result is too large.";
        }

        return false;
    }

    /// <summary>Formats a value without exponent or trailing zeros, e.g. <c>2.50 * 2</c> as <c>5</c>.</summary>
    /// <param name="value">The value.</param>
    /// <returns>The text.</returns>
    public static string Format(decimal value) => value.ToString("0.############################", CultureInfo.InvariantCulture);

    // expression := term (('+' | '-') term)*
    private decimal ParseExpression()
    {
        decimal value = ParseTerm();
        while (true)
        {
            if (Accept('+'))
            {
                value += ParseTerm();
            }
            else if (Accept('-'))
            {
                value -= ParseTerm();
            }
            else
            {
                return value;
            }
        }
    }

    // term := factor (('*' | '/') factor)*
    private decimal ParseTerm()
    {
        decimal value = ParseFactor();
        while (true)
        {
            if (Accept('*'))
            {
                value *= ParseFactor();
            }
            else if (Accept('/'))
            {
                value /= ParseFactor();
            }
            else
            {
                return value;
            }
        }
    }

    // factor := ('+' | '-') factor | '(' expression ')' | number
    private decimal ParseFactor()
    {
        if (++_depth > MaxDepth)
        {
            throw new FormatException($"The expression nests more than {MaxDepth} levels deep.");
        }

        try
        {
            if (Accept('+'))
            {
                return ParseFactor();
            }

            if (Accept('-'))
            {
                return -ParseFactor();
            }

            if (Accept('('))
            {
                decimal value = ParseExpression();
                if (!Accept(')'))
                {
                    throw _position < _text.Length ? Unexpected() : new FormatException("A closing ')' is missing.");
                }

                return value;
            }

            return ParseNumber();
        }
        finally
        {
            _depth--;
        }
    }

    // number := digits ['.' digits] | '.' digits
    private decimal ParseNumber()
    {
        SkipWhiteSpace();
        int start = _position;
        while (_position < _text.Length && (char.IsAsciiDigit(_text[_position]) || _text[_position] == '.'))
        {
            _position++;
        }

        if (_position == start)
        {
            throw _position < _text.Length ? Unexpected() : new FormatException("The expression ends where a number was expected.");
        }

        string number = _text[start.._position];
        if (number.Count(c => c == '.') > 1 || number == ".")
        {
            throw new FormatException($"'{number}' at position {start + 1} is not a number.");
        }

        return decimal.Parse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture);
    }

    private bool Accept(char symbol)
    {
        SkipWhiteSpace();
        if (_position < _text.Length && _text[_position] == symbol)
        {
            _position++;
            return true;
        }

        return false;
    }

    private void SkipWhiteSpace()
    {
        while (_position < _text.Length && char.IsWhiteSpace(_text[_position]))
        {
            _position++;
        }
    }

    private FormatException Unexpected() =>
        new($"Unexpected '{_text[_position]}' at position {_position + 1}; only numbers, + - * / and parentheses are allowed.");
}
